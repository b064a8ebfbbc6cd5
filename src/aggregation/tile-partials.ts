import type { AggregateSpec } from "../definitions/specs.js";

/**
 * The partial aggregates a tile (one key, one hop) keeps so that any window made of whole
 * tiles can be merged from them: the event count, and per event column its non-null count,
 * sum, min, max, and last value with that value's (event, created) time.
 */
export interface ColumnPartials {
  readonly column: string;
  readonly sum: boolean;
  readonly min: boolean;
  readonly max: boolean;
  readonly last: boolean;
}

export interface HopGroup {
  readonly hopSeconds: number;
  readonly aggregates: readonly AggregateSpec[];
  readonly columns: readonly ColumnPartials[];
  /** The group's longest window: how far back any read needs its tiles. */
  readonly longestWindowSeconds: number;
}

/** The aggregates grouped by hop (one tile table per hop), with the partials each column needs. */
export function hopGroups(aggregates: readonly AggregateSpec[]): HopGroup[] {
  const hops = [...new Set(aggregates.map((a) => a.hopSeconds))].sort((a, b) => a - b);
  return hops.map((hopSeconds) => {
    const mine = aggregates.filter((a) => a.hopSeconds === hopSeconds);
    return { hopSeconds, aggregates: mine, columns: columnPartials(mine), longestWindowSeconds: Math.max(...mine.map((a) => a.windowSeconds)) };
  });
}

/** Per event column the aggregates use (sorted by name), the partials they need. */
export function columnPartials(aggregates: readonly AggregateSpec[]): ColumnPartials[] {
  const names = [...new Set(aggregates.flatMap((a) => (a.column === null ? [] : [a.column])))].sort();
  return names.map((column) => {
    const fns = new Set(aggregates.filter((a) => a.column === column).map((a) => a.function));
    return { column, sum: fns.has("sum") || fns.has("mean"), min: fns.has("min"), max: fns.has("max"), last: fns.has("last") };
  });
}

/** Tile column names: `__n` events; per column `__cnt_<c>`, `__sum_<c>`, `__min_<c>`, `__max_<c>`, `__last_<c>` and `__ord_<c>`. */
export const partial = {
  events: "__n",
  count: (c: string): string => `__cnt_${c}`,
  sum: (c: string): string => `__sum_${c}`,
  min: (c: string): string => `__min_${c}`,
  max: (c: string): string => `__max_${c}`,
  last: (c: string): string => `__last_${c}`,
  /** The last value's (event, created) time as one orderable struct. */
  ord: (c: string): string => `__ord_${c}`,
};

/** Tile start (µs) of an event time (µs) for a hop: the floor to a multiple of the hop. */
export const tileStartSql = (micros: string, hopMicros: number): string => `(${micros} - (((${micros}) % ${hopMicros}) + ${hopMicros}) % ${hopMicros})`;
