import { extname } from "node:path";
import type { SourceFormat } from "../definitions/specs.js";
import { quoteString, stringList } from "../util/sql.js";

/** Parquet or CSV, from an explicit format or the file extension; undefined when neither tells. */
export function formatOf(path: string, declared?: SourceFormat): SourceFormat | undefined {
  if (declared !== undefined) return declared;
  const ext = extname(path).toLowerCase();
  return ext === ".parquet" || ext === ".pq" ? "parquet" : ext === ".csv" ? "csv" : undefined;
}

/**
 * A DuckDB table function reading files (a path, a glob, or a list of paths). CSV is read as text when
 * `csvAsText` (ingestion checks every value itself) or with type detection otherwise.
 */
export function readFilesSql(path: string | readonly string[], format: SourceFormat, options: { csvAsText?: boolean; fileColumn?: string } = {}): string {
  const args = [typeof path === "string" ? quoteString(path) : stringList(path)];
  if (options.fileColumn !== undefined) args.push(`filename = ${quoteString(options.fileColumn)}`);
  if (format === "parquet") return `read_parquet(${[...args, "union_by_name = true"].join(", ")})`;
  args.push("header = true", "union_by_name = true");
  if (options.csvAsText === true) args.push("all_varchar = true");
  return `read_csv(${args.join(", ")})`;
}
