/**
 * How a joined row finds how many of its block's events (times sorted) fall before a target:
 * "scan" filters the whole list, "bisect" halves a window once per CTE layer.
 */
export type PositionSearch = "scan" | "bisect";

/**
 * A scan costs in proportion to the events of the block it reads; a bisection costs a pass over
 * every joined row per halving of the largest block. Measured on the aggregation benchmark
 * (blocks of 17 events on average, 63 at most), scanning took about a third less time.
 */
const SCAN_EVENTS_PER_HALVING = 6;

/** Halvings a bisection needs for blocks of up to `maxBlockEvents` events. */
const halvings = (maxBlockEvents: number): number => Math.max(1, Math.ceil(Math.log2(maxBlockEvents + 1)));

/**
 * Scans while the mean block is short next to the halvings the largest one needs.
 *
 * @example
 * chooseSearch({ maxBlockEvents: 63, meanBlockEvents: 17 }); // "scan"
 * chooseSearch({ maxBlockEvents: 100_000, meanBlockEvents: 5_000 }); // "bisect"
 */
export function chooseSearch(stats: { readonly maxBlockEvents: number; readonly meanBlockEvents: number }): PositionSearch {
  return stats.meanBlockEvents <= SCAN_EVENTS_PER_HALVING * halvings(stats.maxBlockEvents) ? "scan" : "bisect";
}

/**
 * A search: `__x<suffix>` is the target, `__i<suffix>` the result; `within` applies an
 * expression over a sorted list of event times to the list the target is searched in (which may
 * depend on the row, as a CASE over several lists).
 */
export interface SearchTarget {
  readonly suffix: string;
  readonly within: (expr: (times: string) => string) => string;
}

/**
 * CTEs `s1` … `sN` over `from` (pure): for each target, `__i<s>` (0 in `from`) ends as the
 * count of the list's events before `__x<s>`, 0 when that or the list is NULL. Returns them in
 * order; the last one holds the positions.
 *
 * @example
 * searchCtes("scan", [{ suffix: "", within: (f) => f("__ets") }], 40, "j");
 * // ["s1 AS (SELECT * REPLACE (CASE WHEN __x IS NULL THEN 0 ELSE coalesce(len(list_filter(__ets, e -> e < __x)), 0) END AS __i) FROM j)"]
 */
export function searchCtes(search: PositionSearch, targets: readonly SearchTarget[], maxBlockEvents: number, from: string): string[] {
  if (search === "scan") {
    const counts = targets.map(({ suffix: s, within }) => `CASE WHEN __x${s} IS NULL THEN 0 ELSE coalesce(${within((times) => `len(list_filter(${times}, e -> e < __x${s}))`)}, 0) END AS __i${s}`);
    return [`s1 AS (SELECT * REPLACE (${counts.join(", ")}) FROM ${from})`];
  }
  // A list index past the end, or into a NULL list, reads NULL, which compares false.
  const steps = Array.from({ length: halvings(maxBlockEvents) }, (_, k) => 2 ** k).reverse();
  return steps.map((step, k) => {
    const moves = targets.map(({ suffix: s, within }) => `CASE WHEN ${within((times) => `${times}[__i${s} + ${step}]`)} < __x${s} THEN __i${s} + ${step} ELSE __i${s} END AS __i${s}`);
    return `s${k + 1} AS (SELECT * REPLACE (${moves.join(", ")}) FROM ${k === 0 ? from : `s${k}`})`;
  });
}
