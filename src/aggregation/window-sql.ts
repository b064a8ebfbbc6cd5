import type { AggregateSpec } from "../definitions/specs.js";
import { PRECOMPUTED_MATCHED, ROW_ID } from "../offline/point-in-time-sql.js";
import { quoteIdent } from "../util/sql.js";
import { block, DAY_US, dayStartSql, mergePartials, slideLengths, windowShapes, type WindowShape } from "./day-blocks.js";
import { searchCtes, type PositionSearch } from "./position-search-sql.js";
import { columnPartials, partial, tileStartSql, type ColumnPartials } from "./tile-partials.js";

export interface WindowQuery {
  /** The entity rows; `rowid` is the input position. */
  readonly entityTable: string;
  /** Entity column → view join key, cast to the key's type when it differs. */
  readonly keys: readonly { readonly name: string; readonly sqlType: string; readonly cast: boolean }[];
  readonly timestampColumn: string;
  readonly aggregates: readonly AggregateSpec[];
  /** A relation over the day blocks of the days the windows reach (see block-files.ts); null when there are none. */
  readonly blocks: string | null;
  /** The most events one block holds: how many halvings a bisection needs. */
  readonly maxBlockEvents: number;
  readonly search: PositionSearch;
  /** Aggregate name → output column. */
  readonly outputs: ReadonlyMap<string, string>;
  /** Output columns' SQL types (aggregate name → type). */
  readonly sqlTypes: ReadonlyMap<string, string>;
}

/**
 * Compiles DESIGN.md's window contract over day blocks (see day-blocks.ts) to one DuckDB SELECT
 * (pure): for each entity row (keys k, time t) and aggregate (window W, hop H), the events of k
 * in [lo, t), lo = floor((t - W) / H) * H. With d = t's day, that is
 *   - on lo's day (offset r = d − day(lo) > 0): its events from lo on, a slice of the block's lists;
 *   - on the days between: one slide of r − 1 days, read from the block of day d − 1;
 *   - on day d: its events before t (from lo when lo's day is d), a slice again.
 * Each label joins its key's blocks at the few offsets it needs (equality on key and day); slice
 * bounds come from a search in the block's sorted event times (position-search-sql.ts); a GROUP BY merges the rows.
 * Output: `__row_id`, one column per aggregate, `__matched` (some event fell in some window).
 */
export function compileWindows(q: WindowQuery): string {
  const { keyCols, cte } = labelCte(q);
  // No blocks: every window is empty.
  if (q.blocks === null) return `WITH ${cte}\nSELECT ${ROW_ID}, ${q.aggregates.map((a) => `CAST(${a.column === null || a.function === "count" ? "0" : "NULL"} AS ${q.sqlTypes.get(a.name)!}) AS ${quoteIdent(q.outputs.get(a.name)!)}`).join(", ")}, false AS ${PRECOMPUTED_MATCHED} FROM lab`;
  const shapes = windowShapes(q.aggregates);
  const shapeOf = (a: AggregateSpec): number => shapes.findIndex((s) => s.windowSeconds === a.windowSeconds && s.hopSeconds === a.hopSeconds);
  const needs = shapes.map((_, i) => columnPartials(q.aggregates.filter((a) => shapeOf(a) === i)));
  const allColumns = columnPartials(q.aggregates);
  const ctes = [cte];
  const perShape = shapes.map((s, i) => `${tileStartSql("__t", s.hopSeconds * 1_000_000)} - ${s.windowSeconds * 1_000_000} AS __lo${i}`);
  ctes.push(`l0 AS (SELECT *, ${dayStartSql("__t")} AS __d, ${perShape.join(", ")} FROM lab)`);
  ctes.push(`l AS (SELECT *, ${shapes.map((_, i) => `(__d - ${dayStartSql(`__lo${i}`)}) // ${DAY_US} AS __off${i}`).join(", ")} FROM l0)`);
  const middle = shapes.some((s) => s.dayOffsets.some((o) => o >= 2)) ? ["1"] : [];
  ctes.push(`lr AS (SELECT *, unnest(list_distinct([0, ${[...middle, ...shapes.map((_, i) => `__off${i}`)].join(", ")}])) AS __r FROM l)`);
  const on = [...q.keys.map((k, i) => `b.${quoteIdent(k.name)} = lr.${keyCols[i]}`), `b.${block.day} = lr.__d - lr.__r * ${DAY_US}`].join(" AND ");
  const targets = [`CASE WHEN __r = 0 THEN __t END AS __x`, ...shapes.map((_, i) => `CASE WHEN __r = __off${i} THEN __lo${i} END AS __x${i}`)];
  ctes.push(`j AS (SELECT lr.${ROW_ID}, lr.__r, ${shapes.map((_, i) => `lr.__off${i}`).join(", ")}, b.*, ${targets.join(", ")}, ${["", ...shapes.map((_, i) => i)].map((i) => `0 AS __i${i}`).join(", ")} FROM lr JOIN ${q.blocks} b ON ${on})`);
  const search = searchCtes(q.search, ["", ...shapes.map((_, i) => String(i))], q.maxBlockEvents, "j");
  ctes.push(...search);
  ctes.push(`sl AS (SELECT *, ${sliceColumns(allColumns, needs).join(", ")} FROM s${search.length})`);
  ctes.push(`pp AS (SELECT *, ${prefixPartials(allColumns).join(", ")} FROM sl)`);
  const contributions = shapes.flatMap((s, i) => shapeContributions(s, i, needs[i]!));
  ctes.push(`q AS (SELECT ${ROW_ID}, ${contributions.join(", ")} FROM pp)`);
  const merged = shapes.flatMap((_, i) => mergePartials(needs[i]!, (p) => name(i, p), (p) => name(i, p)));
  ctes.push(`a AS (SELECT ${ROW_ID}, ${merged.join(", ")} FROM q GROUP BY ${ROW_ID})`);
  const outputs = q.aggregates.map((a) => `CAST(${finalValue(a, shapeOf(a))} AS ${q.sqlTypes.get(a.name)!}) AS ${quoteIdent(q.outputs.get(a.name)!)}`);
  const matched = shapes.map((_, i) => `coalesce(a.${name(i, partial.events)}, 0) > 0`).join(" OR ");
  return `WITH ${ctes.join(",\n")}\nSELECT lab.${ROW_ID}, ${outputs.join(", ")}, (${matched}) AS ${PRECOMPUTED_MATCHED}\nFROM lab LEFT JOIN a ON a.${ROW_ID} = lab.${ROW_ID}`;
}

const name = (shape: number, partialName: string): string => `__w${shape}${partialName}`;

/** The own slice ends at t on day d, else at the day's end. */
const ownEnd = `CASE WHEN __r = 0 THEN __i ELSE len(${block.times}) END`;

/** The slice [a, b] (1-based, inclusive) of a column's events that a partial reads: `__slp_<c>` (the prefix) or `__sl<i>_<c>`. */
const sliceName = (owner: string, column: string): string => quoteIdent(`__sl${owner}_${column}`);

/** Each slice once per row: day d's events before t (the prefix every window starting earlier shares), and each shape's own. */
function sliceColumns(allColumns: readonly ColumnPartials[], needs: readonly (readonly ColumnPartials[])[]): string[] {
  const prefix = allColumns.map((c) => `CASE WHEN __r = 0 THEN list_slice(${block.values(c.column)}, 1, __i) END AS ${sliceName("p", c.column)}`);
  const own = needs.flatMap((columns, i) => columns.map((c) => `CASE WHEN __r = __off${i} THEN list_slice(${block.values(c.column)}, __i${i} + 1, ${ownEnd}) END AS ${sliceName(String(i), c.column)}`));
  return [...prefix, ...own];
}

/** The partials of one slice (`first`: the slice's first index in the block's lists). */
function sliceParts(c: ColumnPartials, slice: string, first: string): [string, string][] {
  const out: [string, string][] = [[partial.count(c.column), `list_count(${slice})`]];
  if (c.sum) out.push([partial.sum(c.column), `list_sum(${slice})`]);
  if (c.min) out.push([partial.min(c.column), `list_min(${slice})`]);
  if (c.max) out.push([partial.max(c.column), `list_max(${slice})`]);
  if (c.last) {
    // The last non-null value's index in the slice, then in the block.
    const at = `list_last(list_filter(list_transform(${slice}, (v, k) -> CASE WHEN v IS NOT NULL THEN k END), k -> k IS NOT NULL))`;
    const inBlock = `${first} - 1 + ${at}`;
    out.push([partial.last(c.column), `${slice}[${at}]`], [partial.ord(c.column), `CASE WHEN ${at} IS NOT NULL THEN struct_pack(ts := ${block.times}[${inBlock}], cr := ${block.created}[${inBlock}]) END`]);
  }
  return out;
}

/** Day d's events before t, shared by every window that starts on an earlier day. */
function prefixPartials(columns: readonly ColumnPartials[]): string[] {
  const parts: [string, string][] = [[partial.events, "__i"], ...columns.flatMap((c) => sliceParts(c, sliceName("p", c.column), "1"))];
  return parts.map(([p, expr]) => `CASE WHEN __r = 0 THEN ${expr} END AS __p${p}`);
}

/** One shape's partials from one joined row: the shared prefix, its own slice, or its slide. */
function shapeContributions(shape: WindowShape, i: number, columns: readonly ColumnPartials[]): string[] {
  const own: [string, string][] = [[partial.events, `greatest(${ownEnd} - __i${i}, 0)`], ...columns.flatMap((c) => sliceParts(c, sliceName(String(i), c.column), `__i${i} + 1`))];
  const lengths = slideLengths([shape]);
  const slide = (p: string): string => (lengths.length === 0 ? "NULL" : `CASE __off${i} - 1 ${lengths.map((l) => `WHEN ${l} THEN ${block.slide(l, p)}`).join(" ")} END`);
  return own.map(([p, expr]) => `CASE WHEN __r = 0 AND __off${i} > 0 THEN __p${p} WHEN __r = __off${i} THEN ${expr} WHEN __r = 1 AND __off${i} >= 2 THEN ${slide(p)} END AS ${name(i, p)}`);
}

function finalValue(a: AggregateSpec, shape: number): string {
  const part = (p: string): string => `a.${name(shape, p)}`;
  if (a.column === null) return `coalesce(${part(partial.events)}, 0)`;
  const count = `coalesce(${part(partial.count(a.column))}, 0)`;
  switch (a.function) {
    case "count":
      return count;
    case "sum":
      return part(partial.sum(a.column));
    case "mean":
      return `CASE WHEN ${count} > 0 THEN (${part(partial.sum(a.column))})::DOUBLE / ${count} END`;
    case "min":
      return part(partial.min(a.column));
    case "max":
      return part(partial.max(a.column));
    case "last":
      return part(partial.last(a.column));
  }
}

/** The entity rows as `lab`: row id, join keys (cast where the types differ) as `__k<i>`, and the time in µs as `__t`. */
export function labelCte(q: Pick<WindowQuery, "entityTable" | "keys" | "timestampColumn">): { keyCols: string[]; cte: string } {
  const keyCols = q.keys.map((_, i) => `__k${i}`);
  const labelKeys = q.keys.map((k, i) => `${k.cast ? `TRY_CAST(${quoteIdent(k.name)} AS ${k.sqlType})` : quoteIdent(k.name)} AS ${keyCols[i]}`);
  return { keyCols, cte: `lab AS (SELECT rowid AS ${ROW_ID}, ${labelKeys.join(", ")}, epoch_us(CAST(${quoteIdent(q.timestampColumn)} AS TIMESTAMPTZ)) AS __t FROM ${q.entityTable})` };
}
