import { CREATED_TIMESTAMP, EVENT_TIMESTAMP, type JoinKeySpec } from "../definitions/specs.js";
import { valueTypeFromName } from "../definitions/value-type.js";
import { quoteIdent, stringList } from "../util/sql.js";
import { partial, tileStartSql, type HopGroup } from "./tile-partials.js";

/**
 * Compiles the tile build for one hop over some event files (pure): one row per (keys, tile)
 * with the partials of `partial`. Sums of integers stay BIGINT, of floats DOUBLE.
 *
 * @example
 * compileTiles(spec.joinKeys, hopGroups(spec.aggregation.aggregates)[0], ["/off/v1/date=2024-01-01/part-a-0.parquet"], new Map([["amount", "Float64"]]))
 */
export function compileTiles(joinKeys: readonly JoinKeySpec[], group: HopGroup, files: readonly string[], columnTypes: ReadonlyMap<string, string>): string {
  const hop = group.hopSeconds * 1_000_000;
  const keys = joinKeys.map((k) => quoteIdent(k.name));
  const select = [...keys, `${tileStartSql(`epoch_us(${EVENT_TIMESTAMP})`, hop)} AS __tile`, `count(*) AS ${partial.events}`];
  for (const c of group.columns) {
    const col = quoteIdent(c.column);
    const isFloat = valueTypeFromName(columnTypes.get(c.column) ?? "")?.scalar.startsWith("Float") === true;
    select.push(`count(${col}) AS ${partial.count(c.column)}`);
    if (c.sum) select.push(`sum(${isFloat ? `${col}::DOUBLE` : col})::${isFloat ? "DOUBLE" : "BIGINT"} AS ${partial.sum(c.column)}`);
    if (c.min) select.push(`min(${col}) AS ${partial.min(c.column)}`);
    if (c.max) select.push(`max(${col}) AS ${partial.max(c.column)}`);
    if (c.last) {
      const ord = `CASE WHEN ${col} IS NOT NULL THEN struct_pack(ts := epoch_us(${EVENT_TIMESTAMP}), cr := epoch_us(${CREATED_TIMESTAMP})) END`;
      select.push(`arg_max(${col}, ${ord}) AS ${partial.last(c.column)}`, `max(${ord}).ts AS ${partial.lastTs(c.column)}`, `max(${ord}).cr AS ${partial.lastCreated(c.column)}`);
    }
  }
  return `SELECT ${select.join(", ")} FROM read_parquet(${stringList(files)}, union_by_name = true) GROUP BY ${[...keys, "__tile"].join(", ")}`;
}
