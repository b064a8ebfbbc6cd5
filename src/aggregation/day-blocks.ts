import type { AggregateSpec } from "../definitions/specs.js";
import { partial, tileStartSql, type ColumnPartials } from "./tile-partials.js";

/**
 * The batch plan's storage: one row per (key, UTC day d) — a "day block" — holding
 *   - the day's partials (`partial.*` names, null when the key has no event that day),
 *   - the day's events as lists sorted by (event, created) time: `__ets`, `__v_<c>`, and `__ecr`
 *     when a last aggregate needs created times,
 *   - slides: the partials of the L whole days before d, for each L a window can need (`__s<L>` + partial name),
 *   - copies of the lists (and event count) of the earlier days windows start on: day d − o as `__d<o>` + list name.
 * A window [lo, t) with t on day d is then: a suffix of lo's day (a list slice, from d's own
 * lists or a copy), the whole days between (one slide), and a prefix of day d (a list slice):
 * all in d's one row, so a label reads exactly one row whatever its windows, with no per-event join.
 */
export const DAY_US = 86_400_000_000;

export const block = {
  day: "__day",
  times: "__ets",
  created: "__ecr",
  values: (c: string): string => `__v_${c}`,
  slide: (days: number, partialName: string): string => `__s${days}${partialName}`,
  /** A copy, on day d's row, of day d − `days`'s list or partial. */
  earlier: (days: number, name: string): string => `__d${days}${name}`,
  /** Whether a column is a copy of an earlier day's `name`. */
  isEarlier: (column: string, name: string): boolean => /^__d\d+__/.test(column) && column.replace(/^__d\d+/, "") === name,
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

/** The earlier days (offsets ≥ 1) windows of these shapes start on: the lists a block copies. */
export const earlierOffsets = (shapes: readonly WindowShape[]): number[] => [...new Set(shapes.flatMap((s) => s.dayOffsets).filter((o) => o >= 1))].sort((x, y) => x - y);

/** How many days before its own a block reads: the farthest copy (a slide is a day shorter than its window's offset). */
export const blockReach = (shapes: readonly WindowShape[]): number => Math.max(0, ...earlierOffsets(shapes));

/** A partial column (of a day, a slide or a slice) and how rows of it merge, given where each partial is read from. */
interface PartialColumn {
  readonly name: string;
  /** Merges rows (an aggregate over `from`). */
  readonly merge: (from: (partialName: string) => string) => string;
  /** Merges pieces within a row; a piece reads a partial as NULL when it holds no event. */
  readonly combine: (pieces: readonly Piece[]) => string;
}

/** One piece of a window (a slice or a slide): where it reads each partial. */
export type Piece = (partialName: string) => string;

/** The partials the column partials need: the event count, per column its non-null count, sum, min, max, and last value with its (event, created) time as one struct. */
function partialColumns(columns: readonly ColumnPartials[]): PartialColumn[] {
  const each = (pieces: readonly Piece[], name: string): string => pieces.map((p) => p(name)).join(", ");
  const by = (agg: string, name: string, combine: (pieces: readonly Piece[]) => string): PartialColumn => ({ name, merge: (from) => `${agg}(${from(name)})`, combine });
  // DuckDB sums BIGINTs into 128-bit integers, which made a training set's final merge about a
  // tenth slower than summing DOUBLEs; counts are exact as DOUBLEs below 2^53, and readers cast them back.
  const count = (name: string): PartialColumn => ({
    name,
    merge: (from) => `sum(CAST(${from(name)} AS DOUBLE))`,
    combine: (pieces) => pieces.map((p) => `coalesce(${p(name)}, 0)`).join(" + "),
  });
  // NULL when no piece holds a value, as a sum over no rows is.
  const sum = (name: string): PartialColumn =>
    by("sum", name, (pieces) => `CASE WHEN ${pieces.map((p) => `${p(name)} IS NULL`).join(" AND ")} THEN NULL ELSE ${pieces.map((p) => `coalesce(${p(name)}, 0)`).join(" + ")} END`);
  const out = [count(partial.events)];
  for (const c of columns) {
    out.push(count(partial.count(c.column)));
    // greatest and least skip NULLs.
    if (c.sum) out.push(sum(partial.sum(c.column)));
    if (c.min) out.push(by("min", partial.min(c.column), (pieces) => `least(${each(pieces, partial.min(c.column))})`));
    if (c.max) out.push(by("max", partial.max(c.column), (pieces) => `greatest(${each(pieces, partial.max(c.column))})`));
    if (c.last) {
      const [last, ord] = [partial.last(c.column), partial.ord(c.column)];
      // Pieces cover disjoint times, so the latest (event, created) time picks one piece.
      out.push(
        {
          name: last,
          merge: (from) => `arg_max(${from(last)}, ${from(ord)})`,
          combine: (pieces) => `CASE greatest(${each(pieces, ord)}) ${pieces.map((p) => `WHEN ${p(ord)} THEN ${p(last)}`).join(" ")} END`,
        },
        by("max", ord, (pieces) => `greatest(${each(pieces, ord)})`),
      );
    }
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

/**
 * SELECT items merging the pieces of one row (a window's slices and slide) into columns named by `to`.
 *
 * @example
 * combinePartials([], [(p) => `__p${p}`, (p) => `__o${p}`], (p) => `__w0${p}`); // ["coalesce(__p__n, 0) + coalesce(__o__n, 0) AS __w0__n"]
 */
export function combinePartials(columns: readonly ColumnPartials[], pieces: readonly Piece[], to: (partialName: string) => string): string[] {
  return partialColumns(columns).map((p) => `${p.combine(pieces)} AS ${to(p.name)}`);
}

/** Floor of a µs expression to its UTC day start. */
export const dayStartSql = (micros: string): string => tileStartSql(micros, DAY_US);
