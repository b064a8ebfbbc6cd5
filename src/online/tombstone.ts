import type { OnlineWrite } from "./online-store.js";

/**
 * An erased (view version, entity) keeps a tombstone record instead of its values: no feature
 * value, its event_timestamp at the erasure's boundary and the largest created_timestamp, so
 * the store's compare-and-set refuses every row from at or before the erasure (a materialization
 * or stream commit racing the erase, a replay), while a genuinely newer row replaces it. Its write
 * time orders it in the cache, so an older populate in flight cannot bring the value back there.
 * Readers see a tombstone as "nothing stored".
 */
export const ERASED_VALUES = "!erased";

/** Above every real created time (µs) while fitting a BIGINT and a JS number exactly. */
export const TOMBSTONE_CREATED_TS = Number.MAX_SAFE_INTEGER;

export function tombstone(entityKey: string, boundaryMicros: number): OnlineWrite {
  return { entityKey, values: ERASED_VALUES, eventTs: boundaryMicros, createdTs: TOMBSTONE_CREATED_TS };
}

export function isTombstone(record: { readonly values: string }): boolean {
  return record.values === ERASED_VALUES;
}

/** A record as readers see it: a tombstone is nothing stored. */
export function visible<R extends { readonly values: string }>(record: R | null): R | null {
  return record !== null && isTombstone(record) ? null : record;
}
