/** Per-feature statuses, as Feast names them, plus Strata's DEFAULTED (served from the default snapshot). */
export type FeatureStatus = "PRESENT" | "NULL_VALUE" | "NOT_FOUND" | "OUTSIDE_MAX_AGE" | "DEFAULTED";

/**
 * The status of one stored value read at `readMicros`: absent → NOT_FOUND; older than the
 * view's ttl → OUTSIDE_MAX_AGE (and no value); a stored null → NULL_VALUE; else PRESENT.
 */
export function statusAt(found: boolean, value: unknown, eventTs: number, ttlSeconds: number | null, readMicros: number): FeatureStatus {
  if (!found) return "NOT_FOUND";
  if (ttlSeconds !== null && eventTs < readMicros - ttlSeconds * 1_000_000) return "OUTSIDE_MAX_AGE";
  return value === null || value === undefined ? "NULL_VALUE" : "PRESENT";
}
