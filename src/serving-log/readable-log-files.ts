import { StorageError } from "../errors.js";
import type { DuckDb } from "../offline/duckdb.js";
import { ServingLogLayout } from "./serving-log-layout.js";
import { earlierFormatFileSql } from "./serving-log-sql.js";

/**
 * The serving log's files of these dates (of all dates without), for explain and training sets; a file
 * in the earlier row format (one JSON object per feature) fails the read by name, instead of as a
 * DuckDB binder error on a missing column. Erasure reads both formats.
 */
export async function readableLogFiles(duck: DuckDb, offlineRoot: string, dates?: readonly string[]): Promise<string[]> {
  const layout = new ServingLogLayout(offlineRoot);
  const files = await layout.partFiles(dates);
  if (files.length === 0) return files;
  const [earlier] = await duck.rows(earlierFormatFileSql(files));
  if (earlier !== undefined) {
    throw new StorageError(`serving log file ${String(earlier.file_name)} is in the earlier row format (one JSON object per feature), which explain and training sets no longer read: move it out of ${layout.dir}`);
  }
  return files;
}
