/** Per-feature statuses, as Feast names them, plus Strata's DEFAULTED (served from the default snapshot). */
export type FeatureStatus = "PRESENT" | "NULL_VALUE" | "NOT_FOUND" | "OUTSIDE_MAX_AGE" | "DEFAULTED";

/**
 * The oldest event time (µs) still within a view's ttl when read at `readMicros`; a value
 * exactly at the edge is still served. Older values read as OUTSIDE_MAX_AGE with no value;
 * a view without ttl never expires.
 */
export function oldestServedMicros(ttlSeconds: number | null, readMicros: number): number {
  return ttlSeconds === null ? -Infinity : readMicros - ttlSeconds * 1_000_000;
}
