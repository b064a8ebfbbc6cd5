import type { FeatureCache, PopulateEntry } from "./feature-cache.js";

/**
 * The embedded cache: a bounded in-process map. Entries expire at their TTL; past
 * `maxEntries` the least recently stored entries are dropped. Same compare-and-set rule as
 * the Redis script.
 */
export class MemoryCache implements FeatureCache {
  readonly layer = "memory";
  readonly sharedAcrossProcesses = false;
  private readonly entries = new Map<string, { payload: string; writeTs: number; expiresAt: number }>();
  private readonly locks = new Map<string, number>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  getMany(keys: readonly string[]): Promise<(string | null)[]> {
    const now = this.now();
    return Promise.resolve(
      keys.map((key) => {
        const entry = this.entries.get(key);
        if (entry === undefined) return null;
        if (entry.expiresAt <= now) {
          this.entries.delete(key);
          return null;
        }
        return entry.payload;
      }),
    );
  }

  populate(entries: readonly PopulateEntry[]): Promise<number> {
    const now = this.now();
    let stored = 0;
    for (const e of entries) {
      const current = this.entries.get(e.key);
      if (current !== undefined && current.expiresAt > now && current.writeTs > e.writeTs) continue;
      this.entries.delete(e.key); // re-insert: map order is store order, oldest first
      this.entries.set(e.key, { payload: e.payload, writeTs: e.writeTs, expiresAt: now + e.ttlMs });
      stored++;
    }
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(key);
    }
    return Promise.resolve(stored);
  }

  delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.entries.delete(key);
    return Promise.resolve();
  }

  tryLock(key: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    if ((this.locks.get(key) ?? 0) > now) return Promise.resolve(false);
    if (this.locks.size >= this.maxEntries) for (const [k, until] of this.locks) if (until <= now) this.locks.delete(k);
    this.locks.set(key, now + ttlMs);
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    this.entries.clear();
    return Promise.resolve();
  }
}
