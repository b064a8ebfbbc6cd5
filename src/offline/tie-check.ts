import { EVENT_TIMESTAMP, type FeatureViewSpec } from "../definitions/specs.js";
import { quoteIdent, stringList } from "../util/sql.js";
import type { DuckDb } from "./duckdb.js";

/**
 * Whether rows of `table` share join keys and event_timestamp with each other (no `files`)
 * or with rows of the given committed files.
 */
export async function findTies(duck: DuckDb, table: string, spec: FeatureViewSpec, files: readonly string[]): Promise<boolean> {
  const keys = [...spec.joinKeys.map((k) => quoteIdent(k.name)), EVENT_TIMESTAMP];
  const sql =
    files.length === 0
      ? `SELECT 1 FROM ${table} GROUP BY ${keys.join(", ")} HAVING count(*) > 1 LIMIT 1`
      : `SELECT 1 FROM ${table} t SEMI JOIN read_parquet(${stringList(files)}, union_by_name = true) c ON ${keys.map((k) => `t.${k} = c.${k}`).join(" AND ")} LIMIT 1`;
  return (await duck.rows(sql)).length > 0;
}
