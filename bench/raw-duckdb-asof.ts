/**
 * The reference for the training-set benchmark: the ASOF query a DuckDB expert would write by
 * hand over the same Parquet files Strata stores (strict <, TTL, every label row in order),
 * i.e. the engine's own limit. Prints one JSON line: seconds, rows, peak RSS.
 *
 * Usage: node dist/bench/raw-duckdb-asof.js <labels.parquet> <out.parquet> <ttlSeconds> <view>=<glob> ...
 */
import { DuckDb } from "../src/offline/duckdb.js";

const [labels, out, ttl, ...views] = process.argv.slice(2);
const duck = await DuckDb.open();
const started = performance.now();
const parsed = views.map((v, i) => ({ name: v.slice(0, v.indexOf("=")), glob: v.slice(v.indexOf("=") + 1), alias: `v${i}` }));
const select = parsed.flatMap((v) =>
  [1, 2, 3].map((n) => `CASE WHEN ${v.alias}.event_timestamp >= l.event_timestamp - to_seconds(${ttl}) THEN ${v.alias}.${v.name}_f${n} END AS ${v.name}_f${n}`),
);
const joins = parsed.map(
  (v) => `ASOF LEFT JOIN read_parquet('${v.glob}') ${v.alias} ON l.driver_id = ${v.alias}.driver_id AND l.event_timestamp > ${v.alias}.event_timestamp`,
);
await duck.run(`COPY (
  SELECT l.driver_id, l.event_timestamp, l.label, ${select.join(", ")}
  FROM read_parquet('${labels}', file_row_number = true) l
  ${joins.join("\n  ")}
  ORDER BY l.file_row_number) TO '${out}' (FORMAT parquet)`);
const seconds = (performance.now() - started) / 1000;
const [count] = await duck.rows(`SELECT count(*) AS n FROM read_parquet('${out}')`);
duck.close();
console.log(JSON.stringify({ tool: "duckdb-asof", seconds, rows: Number(count?.n), peak_rss_mb: process.resourceUsage().maxRSS / 1024 }));
