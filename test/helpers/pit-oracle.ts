/**
 * The point-in-time contract of DESIGN.md, computed by brute force in plain TypeScript: an
 * independent oracle for the DuckDB plans. Times are epoch milliseconds.
 */
export interface OracleFeatureRow {
  readonly keys: Readonly<Record<string, unknown>>;
  readonly ts: number;
  readonly created: number;
  readonly values: Readonly<Record<string, unknown>>;
}

export interface OracleOptions {
  readonly inclusive: boolean;
  readonly asOfIngestion: boolean;
}

/**
 * Every value tuple the contract allows for one entity row: the rows with the greatest
 * (event, created) among the candidates. Rows tied on both are indistinguishable by the
 * contract, so any of them is right. No candidate: the all-null tuple.
 */
export function acceptableValues(
  rows: readonly OracleFeatureRow[],
  features: readonly string[],
  ttlMs: number | null,
  entityKeys: Readonly<Record<string, unknown>>,
  t: number,
  options: OracleOptions,
): Record<string, unknown>[] {
  const candidates = rows.filter(
    (r) =>
      Object.entries(r.keys).every(([k, v]) => entityKeys[k] === v) &&
      (options.inclusive ? r.ts <= t : r.ts < t) &&
      (ttlMs === null || r.ts >= t - ttlMs) &&
      (!options.asOfIngestion || r.created <= t),
  );
  if (candidates.length === 0) return [Object.fromEntries(features.map((f) => [f, null]))];
  const best = candidates.reduce((a, b) => (b.ts > a.ts || (b.ts === a.ts && b.created > a.created) ? b : a));
  return candidates.filter((r) => r.ts === best.ts && r.created === best.created).map((r) => Object.fromEntries(features.map((f) => [f, r.values[f] ?? null])));
}
