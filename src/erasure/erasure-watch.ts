import type { OnlineService } from "../online/online-service.js";
import type { ErasureRecord } from "./erasure-record.js";
import { coversView } from "./subject.js";
import { subjectKeys } from "./subject-keys.js";

/**
 * Keeps a server's in-process cache in step with erasures run elsewhere (`strata erase` in
 * another process reaches Redis and the durable store, not this memory): every `intervalMs` the
 * ledger is read and the entries of newly erased subjects are dropped, so the next read finds the
 * tombstone in the durable store. Erasures before the start need nothing (the cache starts empty).
 * Returns a function that stops it. With a shared cache (Redis) nothing is needed: the erase wrote
 * the tombstones there.
 */
export function watchErasures(online: OnlineService, ledger: () => Promise<ErasureRecord[]>, intervalMs: number): () => void {
  if (online.cache.sharedAcrossProcesses) return () => undefined;
  let seen: Set<string> | undefined;
  let polling = false;
  const poll = async (): Promise<void> => {
    const all = await ledger();
    const fresh = seen === undefined ? [] : all.filter((e) => !seen!.has(e.id));
    seen = new Set(all.map((e) => e.id));
    if (fresh.length === 0) return;
    const snapshot = await online.registrySnapshot();
    for (const erasure of fresh) {
      for (const record of snapshot.views.filter((v) => erasure.views.includes(v.name) && coversView(v.spec, erasure.subject))) {
        const ref = { view: record.name, version: record.version };
        await online.cache.delete((await subjectKeys(online.durable, record, erasure.subject)).map((k) => online.keys.entry(ref, k)));
      }
    }
  };
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    poll()
      .catch(() => undefined) // the registry is unreachable: try again next time
      .finally(() => (polling = false));
  }, intervalMs);
  timer.unref();
  void poll().catch(() => undefined);
  return () => clearInterval(timer);
}
