import { CREATED_TIMESTAMP, EVENT_TIMESTAMP, type AggregateSpec } from "../definitions/specs.js";
import { quoteIdent, stringList } from "../util/sql.js";
import { tileStartSql } from "./tile-partials.js";
import { PRECOMPUTED_MATCHED, ROW_ID } from "../offline/point-in-time-sql.js";
import { labelCte, type WindowQuery } from "./window-sql.js";

/**
 * The window contract as one range join over raw events (pure), for retrieval as of ingestion:
 * only events with `created_timestamp <= t` count, which tiles (mixing arrival times) cannot
 * tell. Each label joins the events of its key in its longest window; each aggregate filters
 * to its own window start.
 */
export function compileRawWindows(q: Pick<WindowQuery, "entityTable" | "keys" | "timestampColumn" | "aggregates" | "outputs" | "sqlTypes"> & { readonly eventFiles: readonly string[]; readonly asOfIngestion: boolean }): string {
  const { keyCols, cte } = labelCte(q);
  const start = (a: AggregateSpec): string => tileStartSql(`lab.__t - ${a.windowSeconds * 1_000_000}`, a.hopSeconds * 1_000_000);
  const columns = [...new Set(q.aggregates.flatMap((a) => (a.column === null ? [] : [a.column])))];
  // [expression over an event file, column name]
  const eventColumns: [string, string][] = [...q.keys.map((k, i): [string, string] => [quoteIdent(k.name), keyCols[i]!]), [`epoch_us(${EVENT_TIMESTAMP})`, "__ts"], [`epoch_us(${CREATED_TIMESTAMP})`, "__cr"], ...columns.map((c): [string, string] => [quoteIdent(c), quoteIdent(c)])];
  const events =
    q.eventFiles.length === 0
      ? `SELECT ${eventColumns.map(([, name]) => `NULL AS ${name}`).join(", ")} WHERE false`
      : `SELECT ${eventColumns.map(([expr, name]) => `${expr} AS ${name}`).join(", ")} FROM read_parquet(${stringList(q.eventFiles)}, union_by_name = true)`;
  const earliest = q.aggregates.map(start);
  const outputs = q.aggregates.map((a) => {
    const inWindow = `ev.__ts >= ${start(a)}`;
    const col = a.column === null ? "" : `ev.${quoteIdent(a.column)}`;
    const expr =
      a.column === null
        ? `count(ev.__ts) FILTER (WHERE ${inWindow})`
        : a.function === "count"
          ? `count(${col}) FILTER (WHERE ${inWindow})`
          : a.function === "mean"
            ? `avg(${col}) FILTER (WHERE ${inWindow})`
            : a.function === "last"
              ? `arg_max(${col}, struct_pack(ts := ev.__ts, cr := ev.__cr)) FILTER (WHERE ${inWindow} AND ${col} IS NOT NULL)`
              : `${a.function}(${col}) FILTER (WHERE ${inWindow})`;
    return `CAST(${expr} AS ${q.sqlTypes.get(a.name)!}) AS ${quoteIdent(q.outputs.get(a.name)!)}`;
  });
  return (
    `WITH ${cte},\n` +
    `ev AS (${events})\n` +
    `SELECT lab.${ROW_ID}, ${outputs.join(", ")}, count(ev.__ts) > 0 AS ${PRECOMPUTED_MATCHED}\n` +
    `FROM lab LEFT JOIN ev ON ${keyCols.map((k) => `ev.${k} = lab.${k}`).join(" AND ")} AND ev.__ts < lab.__t AND ev.__ts >= least(${earliest.join(", ")})` +
    `${q.asOfIngestion ? " AND ev.__cr <= lab.__t" : ""}\nGROUP BY lab.${ROW_ID}`
  );
}
