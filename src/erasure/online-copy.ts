import { decodeEntry } from "../online/cache/cache-entry.js";
import type { ViewRef } from "../online/online-store.js";
import { isTombstone } from "../online/tombstone.js";
import type { ViewVersionRecord } from "../registry/registry-records.js";
import type { ErasureCopy } from "./erasure-copy.js";
import { subjectKeys } from "./subject-keys.js";

const refOf = (record: ViewVersionRecord): ViewRef => ({ view: record.name, version: record.version });
const viewCount = (n: number): string => `${n} view version${n === 1 ? "" : "s"}`;

/**
 * The durable online store and the cache (streaming state of aggregation views included: it is
 * their online record). Each key becomes a tombstone in the durable store and then in the cache
 * (see OnlineWriter.erase), so neither a populate in flight, a re-warm, a materialization nor a
 * stream commit from before the erasure can bring a value back.
 */
export const onlineCopy: ErasureCopy = {
  name: "online",
  async erase(ctx) {
    let removed = 0;
    let states = 0;
    let tombstones = 0;
    for (const record of ctx.views) {
      const keys = await subjectKeys(ctx.online.durable, record, ctx.erasure.subject);
      const n = await ctx.online.writer.erase(refOf(record), keys, ctx.erasure.boundaryMicros);
      removed += n;
      if (record.spec.aggregation !== undefined) states += n;
      tombstones += keys.length;
    }
    return [
      { copy: "durable-online-store", count: removed, detail: `${removed} record(s) replaced by tombstones across ${viewCount(ctx.views.length)}` },
      { copy: "cache", count: tombstones, detail: `${tombstones} tombstone(s) written to the ${ctx.online.cache.layer} cache, each on the shard owning its key` },
      { copy: "streaming-state", count: states, detail: `${states} aggregation state(s) erased; stream processors drop the subject's events at or before the boundary` },
    ];
  },
  async remaining(ctx) {
    const keys = ctx.online.keys;
    const boundary = ctx.erasure.boundaryMicros;
    let durable = 0;
    let states = 0;
    let cached = 0;
    for (const record of ctx.views) {
      const ref = refOf(record);
      const entityKeys = await subjectKeys(ctx.online.durable, record, ctx.erasure.subject);
      // A tombstone's key must have no sealed tiles left (an aggregation state's other part).
      const held = (await ctx.online.durable.readStates(ref, entityKeys)).filter((r) => r !== undefined && (isTombstone(r) ? r.sealed !== undefined : r.eventTs <= boundary)).length;
      durable += held;
      if (record.spec.aggregation !== undefined) states += held;
      const entries = await ctx.online.cache.getMany(entityKeys.map((k) => keys.entry(ref, k)));
      cached += entries.filter((text, i) => {
        const entry = text === null ? undefined : decodeEntry(text, entityKeys[i]!);
        return entry?.record != null && !isTombstone(entry.record) && entry.record.eventTs <= boundary;
      }).length;
    }
    return [
      { copy: "durable-online-store", count: durable, detail: `${durable} record(s) of the subject from at or before the erasure` },
      { copy: "cache", count: cached, detail: `${cached} ${ctx.online.cache.layer} cache entr${cached === 1 ? "y" : "ies"} holding the subject's values` },
      { copy: "streaming-state", count: states, detail: `${states} aggregation state(s) holding the subject's events` },
    ];
  },
};
