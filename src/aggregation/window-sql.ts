import type { AggregateSpec } from "../definitions/specs.js";
import { PRECOMPUTED_MATCHED, ROW_ID } from "../offline/point-in-time-sql.js";
import { quoteIdent } from "../util/sql.js";
import { block, combinePartials, DAY_US, dayStartSql, windowShapes, type Piece, type WindowShape } from "./day-blocks.js";
import { searchCtes, type PositionSearch } from "./position-search-sql.js";
import { columnPartials, partial, tileStartSql, type ColumnPartials } from "./tile-partials.js";

export interface WindowQuery {
  /** The entity rows; `rowid` is the input position. */
  readonly entityTable: string;
  /** Entity column → view join key, cast to the key's type when it differs. */
  readonly keys: readonly { readonly name: string; readonly sqlType: string; readonly cast: boolean }[];
  readonly timestampColumn: string;
  readonly aggregates: readonly AggregateSpec[];
  /** A relation over the day blocks of the entity rows' days, and maybe others (the month packs holding them; see tile-files.ts); null when there are none. */
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
 * in [lo, t), lo = floor((t - W) / H) * H. Each label reads the one block of (k, t's day d), which holds
 *   - on lo's day (offset r = d − day(lo)): its events from lo on, a slice of d's lists (r = 0) or of a copy (r > 0);
 *   - on the days between: the slide of r − 1 days;
 *   - on day d: its events before t (when r > 0), a slice of d's lists.
 * Slice bounds come from a search in the sorted event times (position-search-sql.ts); each
 * window's partials are merged within the row, so there is no GROUP BY.
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
  const on = [...q.keys.map((k, i) => `b.${quoteIdent(k.name)} = l.${keyCols[i]}`), `b.${block.day} = l.__d`].join(" AND ");
  const targets = [`__t AS __x`, ...shapes.map((_, i) => `__lo${i} AS __x${i}`), ...["", ...shapes.map((_, i) => i)].map((i) => `0 AS __i${i}`)];
  ctes.push(`j AS (SELECT l.${ROW_ID}, ${shapes.map((_, i) => `l.__off${i}`).join(", ")}, b.*, ${targets.join(", ")} FROM l LEFT JOIN ${q.blocks} b ON ${on})`);
  const days = shapes.map((s, i) => startDay(s, i));
  const search = searchCtes(q.search, [{ suffix: "", within: (f) => f(block.times) }, ...days.map((day, i) => ({ suffix: String(i), within: (f: (times: string) => string) => day((list) => f(list(block.times))) }))], q.maxBlockEvents, "j");
  ctes.push(...search);
  ctes.push(`sl AS (SELECT *, ${sliceColumns(allColumns, needs, days).join(", ")} FROM s${search.length})`);
  const prefix = (p: string): string => `__p${p}`;
  const own = (i: number) => (p: string): string => `__o${i}${p}`;
  const partials = [...slicePartials(allColumns, "p", "__i", "1", (f) => f((n) => n, 0)).map(([p, expr]) => `${expr} AS ${prefix(p)}`), ...shapes.flatMap((s, i) => ownPartials(needs[i]!, i, days[i]!).map(([p, expr]) => `${expr} AS ${own(i)(p)}`))];
  ctes.push(`pp AS (SELECT *, ${partials.join(", ")} FROM sl)`);
  const merged = shapes.flatMap((s, i) => combinePartials(needs[i]!, windowPieces(s, i, own(i), prefix), (p) => name(i, p)));
  ctes.push(`m AS (SELECT ${ROW_ID}, ${merged.join(", ")} FROM pp)`);
  const outputs = q.aggregates.map((a) => `CAST(${finalValue(a, shapeOf(a))} AS ${q.sqlTypes.get(a.name)!}) AS ${quoteIdent(q.outputs.get(a.name)!)}`);
  const matched = shapes.map((_, i) => `${name(i, partial.events)} > 0`).join(" OR ");
  return `WITH ${ctes.join(",\n")}\nSELECT ${ROW_ID}, ${outputs.join(", ")}, (${matched}) AS ${PRECOMPUTED_MATCHED}\nFROM m`;
}

const name = (shape: number, partialName: string): string => `__w${shape}${partialName}`;

/** An expression over one day's lists (`list` names a list of that day; `offset` days before the label's), applied to the day a window starts on. */
type OnStartDay = (expr: (list: (listName: string) => string, offset: number) => string) => string;

/** Shape i's start day: the label's own day or a copy, chosen per row by its offset. */
function startDay(shape: WindowShape, i: number): OnStartDay {
  return (expr) => {
    const on = (offset: number): string => expr((listName) => (offset === 0 ? listName : block.earlier(offset, listName)), offset);
    if (shape.dayOffsets.length === 1) return on(shape.dayOffsets[0]!);
    return `CASE __off${i} ${shape.dayOffsets.map((o) => `WHEN ${o} THEN ${on(o)}`).join(" ")} END`;
  };
}

/** A start-day slice runs from the window's start to t on the label's own day, else to its day's end. */
const sliceEnd = (list: (listName: string) => string, offset: number): string => (offset === 0 ? "__i" : `len(${list(block.times)})`);

/** The slice of a column's events that a partial reads: `__slp_<c>` (day d before t) or `__sl<i>_<c>` (shape i's start day). */
const sliceName = (owner: string, column: string): string => quoteIdent(`__sl${owner}_${column}`);

/** Each slice once per row: day d's events before t (the prefix every window starting earlier shares), and each shape's own. */
function sliceColumns(allColumns: readonly ColumnPartials[], needs: readonly (readonly ColumnPartials[])[], days: readonly OnStartDay[]): string[] {
  const prefix = allColumns.map((c) => `list_slice(${block.values(c.column)}, 1, __i) AS ${sliceName("p", c.column)}`);
  const own = needs.flatMap((columns, i) => columns.map((c) => `${days[i]!((list, offset) => `list_slice(${list(block.values(c.column))}, __i${i} + 1, ${sliceEnd(list, offset)})`)} AS ${sliceName(String(i), c.column)}`));
  return [...prefix, ...own];
}

/** The partials of one slice: its events, and per column from its slice column (`first`: the slice's first index in its day's lists). */
function slicePartials(columns: readonly ColumnPartials[], owner: string, events: string, first: string, day: OnStartDay): [string, string][] {
  const out: [string, string][] = [[partial.events, events]];
  for (const c of columns) {
    const slice = sliceName(owner, c.column);
    out.push([partial.count(c.column), `list_count(${slice})`]);
    if (c.sum) out.push([partial.sum(c.column), `list_sum(${slice})`]);
    if (c.min) out.push([partial.min(c.column), `list_min(${slice})`]);
    if (c.max) out.push([partial.max(c.column), `list_max(${slice})`]);
    if (c.last) {
      // The last non-null value's index in the slice, then in the day's lists.
      const at = `list_last(list_filter(list_transform(${slice}, (v, k) -> CASE WHEN v IS NOT NULL THEN k END), k -> k IS NOT NULL))`;
      const ord = day((list) => `struct_pack(ts := ${list(block.times)}[${first} - 1 + ${at}], cr := ${list(block.created)}[${first} - 1 + ${at}])`);
      out.push([partial.last(c.column), `${slice}[${at}]`], [partial.ord(c.column), `CASE WHEN ${at} IS NOT NULL THEN ${ord} END`]);
    }
  }
  return out;
}

/** Shape i's start-day slice partials. */
function ownPartials(columns: readonly ColumnPartials[], i: number, day: OnStartDay): [string, string][] {
  const events = day((list, offset) => `greatest(${offset === 0 ? "__i" : `coalesce(${sliceEnd(list, offset)}, 0)`} - __i${i}, 0)`);
  return slicePartials(columns, String(i), events, `__i${i} + 1`, day);
}

/** A window's pieces: its start-day slice, day d's events before t when it starts on an earlier day, the slide between. */
function windowPieces(shape: WindowShape, i: number, own: Piece, prefix: Piece): Piece[] {
  const pieces = [own];
  const earlier = shape.dayOffsets.filter((o) => o > 0);
  if (earlier.length > 0) pieces.push(earlier.length === shape.dayOffsets.length ? prefix : (p) => `CASE WHEN __off${i} > 0 THEN ${prefix(p)} END`);
  const slid = shape.dayOffsets.filter((o) => o >= 2);
  if (slid.length > 0) pieces.push((p) => `CASE __off${i} ${slid.map((o) => `WHEN ${o} THEN ${block.slide(o - 1, p)}`).join(" ")} END`);
  return pieces;
}

function finalValue(a: AggregateSpec, shape: number): string {
  const part = (p: string): string => name(shape, p);
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
