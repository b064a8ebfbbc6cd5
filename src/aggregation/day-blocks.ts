import type { AggregateSpec } from "../definitions/specs.js";
import { partial, tileStartSql, type ColumnPartials } from "./tile-partials.js";

/**
 * The batch plan's storage: one row per (key, UTC day) — a "day block" — holding
 *   - the day's partials (`partial.*` names, null on rows that only carry slides),
 *   - the day's events as lists sorted by (event, created) time: `__ets`, `__v_<c>`, and `__ecr`
 *     when a last aggregate needs created times,
 *   - slides: the partials of the L whole days ending at the block's day, for each L a window
 *     can need (`__s<L>` + partial name).
 * A window [lo, t) is then: a suffix of lo's day (a list slice), the whole days between (one
 * slide, read from the day before t's), and a prefix of t's day (a list slice): at most three
 * rows per label whatever the window's length, and no per-event join.
 */
export const DAY_US = 86_400_000_000;

export const block = {
  day: "__day",
  times: "__ets",
  created: "__ecr",
  values: (c: string): string => `__v_${c}`,
  slide: (days: number, partialName: string): string => `__s${days}${partialName}`,
};

/** One distinct (window, hop) of a view's aggregates: where its windows start relative to t's day. */
export interface WindowShape {
  readonly windowSeconds: number;
  readonly hopSeconds: number;
  /** Every value of (t's day − lo's day) in days, for t anywhere in a day. */
  readonly dayOffsets: readonly number[];
}

/** The distinct window shapes of some aggregates. A hop divides a day and a window is a whole number of hops. */
export function windowShapes(aggregates: readonly AggregateSpec[]): WindowShape[] {
  const seen = new Map<string, WindowShape>();
  for (const a of aggregates) {
    const id = `${a.windowSeconds}/${a.hopSeconds}`;
    if (seen.has(id)) continue;
    const hop = a.hopSeconds * 1_000_000;
    const offsets = new Set<number>();
    // lo = floor(t / hop) * hop - window: one value per hop-sized step of t through a day.
    for (let tileStart = 0; tileStart < DAY_US; tileStart += hop) {
      const lo = tileStart - a.windowSeconds * 1_000_000;
      offsets.add(-Math.floor(lo / DAY_US));
    }
    seen.set(id, { windowSeconds: a.windowSeconds, hopSeconds: a.hopSeconds, dayOffsets: [...offsets].sort((x, y) => x - y) });
  }
  return [...seen.values()];
}

/** The slide lengths (whole days strictly between lo's day and t's) any shape needs; 0 needs none. */
export function slideLengths(shapes: readonly WindowShape[]): number[] {
  return [...new Set(shapes.flatMap((s) => s.dayOffsets.map((o) => o - 1)).filter((l) => l >= 1))].sort((x, y) => x - y);
}

/** A partial column (of a day, a slide or a slice) and how rows of it merge, given where each partial is read from. */
interface PartialColumn {
  readonly name: string;
  readonly merge: (from: (partialName: string) => string) => string;
}

/** The partials the column partials need: the event count, per column its non-null count, sum, min, max, and last value with its (event, created) time as one struct. */
function partialColumns(columns: readonly ColumnPartials[]): PartialColumn[] {
  const by = (agg: string, name: string): PartialColumn => ({ name, merge: (from) => `${agg}(${from(name)})` });
  // DuckDB sums BIGINTs into 128-bit integers, which made a training set's final merge about a
  // tenth slower than summing DOUBLEs; counts are exact as DOUBLEs below 2^53, and readers cast them back.
  const count = (name: string): PartialColumn => ({ name, merge: (from) => `sum(CAST(${from(name)} AS DOUBLE))` });
  const out = [count(partial.events)];
  for (const c of columns) {
    out.push(count(partial.count(c.column)));
    if (c.sum) out.push(by("sum", partial.sum(c.column)));
    if (c.min) out.push(by("min", partial.min(c.column)));
    if (c.max) out.push(by("max", partial.max(c.column)));
    if (c.last) out.push({ name: partial.last(c.column), merge: (from) => `arg_max(${from(partial.last(c.column))}, ${from(partial.ord(c.column))})` }, by("max", partial.ord(c.column)));
  }
  return out;
}

/** The partial columns (day partials and slides alike) that the column partials need. */
export const partialNames = (columns: readonly ColumnPartials[]): string[] => partialColumns(columns).map((p) => p.name);

/**
 * SELECT items merging rows of partials (read through `from`, only rows passing `filter` when
 * given) into columns named by `to`: slides over days, and a label's rows over blocks.
 */
export function mergePartials(columns: readonly ColumnPartials[], from: (partialName: string) => string, to: (partialName: string) => string, filter?: string): string[] {
  return partialColumns(columns).map((p) => `${p.merge(from)}${filter === undefined ? "" : ` FILTER (WHERE ${filter})`} AS ${to(p.name)}`);
}

/** Floor of a µs expression to its UTC day start. */
export const dayStartSql = (micros: string): string => tileStartSql(micros, DAY_US);
