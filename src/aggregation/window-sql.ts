import { CREATED_TIMESTAMP, EVENT_TIMESTAMP, type AggregateSpec } from "../definitions/specs.js";
import { PRECOMPUTED_MATCHED, ROW_ID } from "../offline/point-in-time-sql.js";
import { quoteIdent, stringList } from "../util/sql.js";
import { partial, tileStartSql, type HopGroup } from "./tile-partials.js";

export interface WindowQuery {
  /** The entity rows; `rowid` is the input position. */
  readonly entityTable: string;
  /** Entity column → view join key, cast to the key's type when it differs. */
  readonly keys: readonly { readonly name: string; readonly sqlType: string; readonly cast: boolean }[];
  readonly timestampColumn: string;
  readonly groups: readonly (HopGroup & { readonly tileFiles: readonly string[]; readonly eventFiles: readonly string[] })[];
  /** Aggregate name → output column. */
  readonly outputs: ReadonlyMap<string, string>;
  /** Output columns' SQL types (aggregate name → type). */
  readonly sqlTypes: ReadonlyMap<string, string>;
}

/**
 * Compiles DESIGN.md's window contract over tiles to one DuckDB SELECT (pure): for each entity
 * row (keys k, time t) and aggregate (window W, hop H), the events of k with
 * `floor((t - W) / H) * H <= event_timestamp < t`. As W is a whole number of hops, that is the
 * whole tiles in [he - W, he), he = floor(t / H) * H, plus the head: events in [he, t).
 *
 * Whole tiles: each label joins its key's tiles in [he - W, he) for its longest window, and each
 * aggregate filters to its own window: a join over tiles, not events, so its size shrinks with
 * the number of events per tile. The head: within each (key, tile), running aggregates over the
 * events in time order (only tiles some label needs), then an ASOF join picks, for each label,
 * the running row of the last event before t. Output: `__row_id`, one column per aggregate,
 * `__matched` (some event fell in some window).
 */
export function compileWindows(q: WindowQuery): string {
  const { keyCols, cte } = labelCte(q);
  const ctes = [cte];
  const joins: string[] = [];
  const outputs: string[] = [];
  const matched: string[] = [];
  const storedKeys = q.keys.map((k, i) => `${quoteIdent(k.name)} AS ${keyCols[i]}`).join(", ");
  const partition = keyCols.join(", ");

  q.groups.forEach((g, gi) => {
    const hop = g.hopSeconds * 1_000_000;
    const longest = g.longestWindowSeconds;
    // [expression over a tile file, column name] for each partial the group's aggregates need.
    const tileColumns: [string, string][] = [[partial.events, partial.events]];
    for (const c of g.columns) {
      const name = c.column;
      tileColumns.push([partial.count(name), partial.count(name)]);
      if (c.sum) tileColumns.push([partial.sum(name), partial.sum(name)]);
      if (c.min) tileColumns.push([partial.min(name), partial.min(name)]);
      if (c.max) tileColumns.push([partial.max(name), partial.max(name)]);
      if (c.last) {
        const ord = `CASE WHEN ${partial.lastTs(name)} IS NOT NULL THEN struct_pack(ts := ${partial.lastTs(name)}, cr := ${partial.lastCreated(name)}) END`;
        tileColumns.push([partial.last(name), partial.last(name)], [ord, partial.ord(name)]);
      }
    }
    const partialCols = tileColumns.map(([, name]) => name);
    const tiles =
      g.tileFiles.length === 0
        ? `SELECT ${[...keyCols.map((k) => `NULL AS ${k}`), "NULL::BIGINT AS __o", ...partialCols.map((p) => `NULL AS ${p}`)].join(", ")} WHERE false`
        : `SELECT ${[storedKeys, "__tile AS __o", ...tileColumns.map(([expr, name]) => (expr === name ? name : `${expr} AS ${name}`))].join(", ")} FROM read_parquet(${stringList(g.tileFiles)}, union_by_name = true)`;
    ctes.push(`l${gi} AS (SELECT ${ROW_ID}, ${partition}, __t, ${tileStartSql("__t", hop)} AS __he FROM lab)`);
    // Whole tiles: a join of each label with its key's tiles in its longest window, each aggregate filtered to its own.
    const tileAggs: string[] = [`sum(tl.${partial.events}) AS __n_all`];
    // The join already holds the longest window's tiles: only shorter windows need a filter.
    for (const a of g.aggregates) tileAggs.push(...windowed(a, a.windowSeconds === longest ? undefined : `tl.__o >= l.__he - ${a.windowSeconds * 1_000_000}`));
    // A hash join on the key alone would pair each label with all its key's tiles; bucketing time by
    // the window length makes it pair a label only with tiles in its two buckets (its window spans at most two).
    const bucket = longest * 1_000_000;
    const labels = `SELECT *, unnest([__he // ${bucket}, __he // ${bucket} - 1]) AS __b FROM l${gi}`;
    const bucketed = `SELECT *, __o // ${bucket} AS __b FROM (${tiles})`;
    const inWindow = `${keyCols.map((k) => `tl.${k} = l.${k}`).join(" AND ")} AND tl.__b = l.__b AND tl.__o < l.__he AND tl.__o >= l.__he - ${bucket}`;
    ctes.push(`t${gi} AS (SELECT l.${ROW_ID}, ${dedupe(tileAggs).join(", ")} FROM (${labels}) l JOIN (${bucketed}) tl ON ${inWindow} GROUP BY l.${ROW_ID})`);
    // The head: running aggregates inside each needed (key, tile), then ASOF to the last event before t.
    const eventCols = [storedKeys, `epoch_us(${EVENT_TIMESTAMP}) AS __ts`, `${tileStartSql(`epoch_us(${EVENT_TIMESTAMP})`, hop)} AS __tile`, ...g.columns.map((c) => `${quoteIdent(c.column)} AS ${quoteIdent(`__v_${c.column}`)}`), ...g.columns.filter((c) => c.last).map((c) => `CASE WHEN ${quoteIdent(c.column)} IS NOT NULL THEN struct_pack(ts := epoch_us(${EVENT_TIMESTAMP}), cr := epoch_us(${CREATED_TIMESTAMP})) END AS __eord_${c.column}`)];
    const needed = `(SELECT DISTINCT ${partition}, __he FROM l${gi})`;
    const events = g.eventFiles.length === 0 ? null : `SELECT ev.* FROM (SELECT ${eventCols.join(", ")} FROM read_parquet(${stringList(g.eventFiles)}, union_by_name = true)) ev SEMI JOIN ${needed} nd ON ${keyCols.map((k) => `ev.${k} = nd.${k}`).join(" AND ")} AND ev.__tile = nd.__he`;
    const running = [partition, "__tile", "__ts", `count(*) OVER r AS ${partial.events}`];
    for (const c of g.columns) {
      const v = quoteIdent(`__v_${c.column}`);
      running.push(`count(${v}) OVER r AS ${partial.count(c.column)}`);
      if (c.sum) running.push(`sum(${v}) OVER r AS ${partial.sum(c.column)}`);
      if (c.min) running.push(`min(${v}) OVER r AS ${partial.min(c.column)}`);
      if (c.max) running.push(`max(${v}) OVER r AS ${partial.max(c.column)}`);
      if (c.last) running.push(`arg_max(${v}, __eord_${c.column}) OVER r AS ${partial.last(c.column)}`, `max(__eord_${c.column}) OVER r AS ${partial.ord(c.column)}`);
    }
    if (events !== null) {
      ctes.push(`r${gi} AS (SELECT ${running.join(", ")} FROM (${events}) WINDOW r AS (PARTITION BY ${partition}, __tile ORDER BY __ts RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW))`);
      ctes.push(`h${gi} AS (SELECT l.${ROW_ID}, r.* EXCLUDE (${partition}, __tile, __ts) FROM l${gi} l ASOF LEFT JOIN r${gi} r ON ${keyCols.map((k) => `l.${k} = r.${k}`).join(" AND ")} AND l.__he = r.__tile AND l.__t > r.__ts)`);
    } else ctes.push(`h${gi} AS (SELECT ${ROW_ID}, ${partialCols.map((p) => `NULL AS ${p}`).join(", ")} FROM l${gi})`);
    joins.push(`LEFT JOIN t${gi} ON t${gi}.${ROW_ID} = lab.${ROW_ID}`, `LEFT JOIN h${gi} ON h${gi}.${ROW_ID} = lab.${ROW_ID}`);
    for (const a of g.aggregates) outputs.push(`CAST(${merge(a, `t${gi}`, `h${gi}`)} AS ${q.sqlTypes.get(a.name)!}) AS ${quoteIdent(q.outputs.get(a.name)!)}`);
    matched.push(`coalesce(t${gi}.__n_all, 0) + coalesce(h${gi}.${partial.events}, 0) > 0`);
  });
  const select = [`lab.${ROW_ID}`, ...outputs, `(${matched.join(" OR ")}) AS ${PRECOMPUTED_MATCHED}`];
  return `WITH ${ctes.join(",\n")}\nSELECT ${select.join(", ")}\nFROM lab\n${joins.join("\n")}`;
}

/** The whole-tile columns one aggregate needs, named by window: aggregates over the joined tiles (those passing `inWindow`, if given). */
function windowed(a: AggregateSpec, inWindow: string | undefined): string[] {
  const w = a.windowSeconds;
  const c = a.column;
  const filter = inWindow === undefined ? "" : ` FILTER (WHERE ${inWindow})`;
  const over = (agg: string, column: string, name: string): string => `${agg}(tl.${column})${filter} AS ${name}_${w}`;
  if (c === null) return [over("sum", partial.events, "n")];
  const out = [over("sum", partial.count(c), partial.count(c))];
  if (a.function === "sum" || a.function === "mean") out.push(over("sum", partial.sum(c), partial.sum(c)));
  if (a.function === "min") out.push(over("min", partial.min(c), partial.min(c)));
  if (a.function === "max") out.push(over("max", partial.max(c), partial.max(c)));
  if (a.function === "last") out.push(`arg_max(tl.${partial.last(c)}, tl.${partial.ord(c)})${filter} AS ${partial.last(c)}_${w}`, over("max", partial.ord(c), partial.ord(c)));
  return out;
}

const dedupe = (items: readonly string[]): string[] => [...new Set(items)];

/** Whole tiles (alias t, columns suffixed by window) merged with the head (alias h). */
function merge(a: AggregateSpec, t: string, h: string): string {
  const w = a.windowSeconds;
  const c = a.column;
  const both = (tile: string, head: string, combine: (x: string, y: string) => string): string =>
    `CASE WHEN ${tile} IS NULL THEN ${head} WHEN ${head} IS NULL THEN ${tile} ELSE ${combine(tile, head)} END`;
  if (c === null) return `coalesce(${t}.n_${w}, 0) + coalesce(${h}.${partial.events}, 0)`;
  const count = `(coalesce(${t}.${partial.count(c)}_${w}, 0) + coalesce(${h}.${partial.count(c)}, 0))`;
  const sum = both(`${t}.${partial.sum(c)}_${w}`, `${h}.${partial.sum(c)}`, (x, y) => `${x} + ${y}`);
  switch (a.function) {
    case "count":
      return count;
    case "sum":
      return sum;
    case "mean":
      return `CASE WHEN ${count} > 0 THEN (${sum})::DOUBLE / ${count} END`;
    case "min":
      return both(`${t}.${partial.min(c)}_${w}`, `${h}.${partial.min(c)}`, (x, y) => `least(${x}, ${y})`);
    case "max":
      return both(`${t}.${partial.max(c)}_${w}`, `${h}.${partial.max(c)}`, (x, y) => `greatest(${x}, ${y})`);
    case "last":
      return `CASE WHEN ${h}.${partial.ord(c)} IS NOT NULL AND (${t}.${partial.ord(c)}_${w} IS NULL OR ${h}.${partial.ord(c)} > ${t}.${partial.ord(c)}_${w}) THEN ${h}.${partial.last(c)} ELSE ${t}.${partial.last(c)}_${w} END`;
  }
}

/** The entity rows as `lab`: row id, join keys (cast where the types differ) as `__k<i>`, and the time in µs as `__t`. */
export function labelCte(q: Pick<WindowQuery, "entityTable" | "keys" | "timestampColumn">): { keyCols: string[]; cte: string } {
  const keyCols = q.keys.map((_, i) => `__k${i}`);
  const labelKeys = q.keys.map((k, i) => `${k.cast ? `TRY_CAST(${quoteIdent(k.name)} AS ${k.sqlType})` : quoteIdent(k.name)} AS ${keyCols[i]}`);
  return { keyCols, cte: `lab AS (SELECT rowid AS ${ROW_ID}, ${labelKeys.join(", ")}, epoch_us(CAST(${quoteIdent(q.timestampColumn)} AS TIMESTAMPTZ)) AS __t FROM ${q.entityTable})` };
}
