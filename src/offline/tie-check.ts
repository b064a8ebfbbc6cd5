import { EVENT_TIMESTAMP, type FeatureViewSpec } from "../definitions/specs.js";
import { quoteIdent, stringList } from "../util/sql.js";
import type { DuckDb } from "./duckdb.js";

const tieKeys = (spec: FeatureViewSpec): string[] => [...spec.joinKeys.map((k) => quoteIdent(k.name)), EVENT_TIMESTAMP];

/** Whether two rows of `table` share join keys and event_timestamp. */
export async function hasSelfTies(duck: DuckDb, table: string, spec: FeatureViewSpec): Promise<boolean> {
  return (await duck.rows(`SELECT 1 FROM ${table} GROUP BY ${tieKeys(spec).join(", ")} HAVING count(*) > 1 LIMIT 1`)).length > 0;
}

/** Whether a row of `table` shares join keys and event_timestamp with a row of the given files. */
export async function hasTiesWith(duck: DuckDb, table: string, spec: FeatureViewSpec, files: readonly string[]): Promise<boolean> {
  if (files.length === 0) return false;
  const on = tieKeys(spec).map((k) => `t.${k} = c.${k}`).join(" AND ");
  return (await duck.rows(`SELECT 1 FROM ${table} t SEMI JOIN read_parquet(${stringList(files)}, union_by_name = true) c ON ${on} LIMIT 1`)).length > 0;
}
