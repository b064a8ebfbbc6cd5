import type { FeatureStatus } from "../online/read/feature-status.js";
import { quoteString, stringList, timestampLiteral } from "../util/sql.js";

/**
 * The serving log's columns, one row per (request, entity row). The JSON text columns:
 * `entity` the row's join keys; `features` the features served, `[{"feature":"view:name",
 * "view":…,"version":…}]` (the same text for every row of a request shape, so Parquet stores it
 * once per row group); `feature_values` their values as served, a list in the same order;
 * `statuses` one letter per feature (see STATUS_LETTERS); `event_timestamps` per view its event
 * time in epoch microseconds (null: none). Splitting what repeats from what varies keeps a row
 * ~5x smaller than one JSON object per feature, which is what the log's writer pays for.
 */
export const LOG_COLUMNS = [
  ["request_id", "VARCHAR"],
  ["served_at", "TIMESTAMPTZ"],
  ["service", "VARCHAR"],
  ["row_index", "INTEGER"],
  ["subject_keys", "VARCHAR[]"],
  ["entity", "VARCHAR"],
  ["features", "VARCHAR"],
  ["feature_values", "VARCHAR"],
  ["statuses", "VARCHAR"],
  ["event_timestamps", "VARCHAR"],
  ["degraded", "BOOLEAN"],
] as const;

/** A status as the `statuses` column writes it: one letter. */
export const STATUS_LETTERS: Readonly<Record<FeatureStatus, string>> = { PRESENT: "P", NULL_VALUE: "N", NOT_FOUND: "M", OUTSIDE_MAX_AGE: "O", DEFAULTED: "D" };

/** As written: served_at in epoch milliseconds, subject_keys JSON text, features a 1-based index into the file's list of them. */
const LINE_TYPES: Readonly<Record<string, string>> = { served_at: "BIGINT", subject_keys: "VARCHAR", features: "INTEGER" };

/** A row (one entity row × every feature served) may be long; DuckDB's default limit is 2 MB. */
const MAX_LINE_BYTES = 16 << 20;
/** Small row groups: the writer holds one in memory (measured: 2,048 rows halved the peak of 1 s of rows at 20k/s), and request ids, time-ordered, prune by them. */
const ROW_GROUP_ROWS = 2048;

/**
 * Reads tab-separated log rows (see renderPacked: JSON fields, never a raw tab or newline, so no
 * quoting) with explicit types, no detection, and writes them as one Parquet file; `features`
 * lists the `features` texts the lines refer to by index. The lines are ours, so the lenient
 * parser (strict_mode off, measured ~15% faster) is safe.
 */
export function linesToParquetSql(lines: string, parquet: string, features: readonly string[]): string {
  const columns = LOG_COLUMNS.map(([name, type]) => `${name}: '${LINE_TYPES[name] ?? type}'`).join(", ");
  const read = `read_csv(${quoteString(lines)}, delim = '\t', quote = '', escape = '', header = false, auto_detect = false, strict_mode = false, nullstr = '\\N', max_line_size = ${MAX_LINE_BYTES}, columns = {${columns}})`;
  const replace = `epoch_ms(served_at)::TIMESTAMPTZ AS served_at, from_json(subject_keys, '["VARCHAR"]') AS subject_keys, ${stringList(features)}[features] AS features`;
  return `COPY (SELECT * REPLACE (${replace}) FROM ${read}) TO ${quoteString(parquet)} (FORMAT parquet, ROW_GROUP_SIZE ${ROW_GROUP_ROWS})`;
}

export const SERVED_LIST_TYPE = "STRUCT(feature VARCHAR, view VARCHAR, version INTEGER, value JSON, status VARCHAR, event_time BIGINT)[]";

/**
 * A logged row's features as a list of structs (SERVED_LIST_TYPE), in served order: value as
 * JSON text, status by its name, event_time in epoch microseconds (null: none).
 */
export function servedListSql(): string {
  const status = `CASE substr(statuses, i, 1) ${Object.entries(STATUS_LETTERS).map(([name, letter]) => `WHEN '${letter}' THEN '${name}'`).join(" ")} END`;
  const eventTime = `CAST(json_extract_string(event_timestamps, '$."' || f.view || '"') AS BIGINT)`;
  return `list_transform(from_json(features, '[{"feature":"VARCHAR","view":"VARCHAR","version":"INTEGER"}]'),
    lambda f, i: {feature: f.feature, view: f.view, version: f.version, value: json_extract(feature_values, i - 1), status: ${status}, event_time: ${eventTime}})`;
}

/** The first of the files written in the log's earlier format (one JSON object per feature, no `feature_values`), if any. */
export function earlierFormatFileSql(files: readonly string[]): string {
  return `SELECT file_name FROM parquet_schema(${stringList(files)}) GROUP BY file_name HAVING NOT bool_or(name = 'feature_values') ORDER BY file_name LIMIT 1`;
}

export function readLogSql(files: readonly string[]): string {
  return `read_parquet(${stringList(files)})`;
}

/** Rows whose subject keys (`join_key=value`) include every one given, served at or before `servedUpTo` (µs) when given. */
export function subjectFilterSql(subject: readonly string[], servedUpTo?: number): string {
  const keys = `list_has_all(subject_keys, ${subject.length === 0 ? "[]::VARCHAR[]" : stringList(subject)})`;
  return servedUpTo === undefined ? keys : `(${keys} AND served_at <= ${timestampLiteral(BigInt(Math.floor(servedUpTo)))})`;
}

/** Per file holding the subject's rows: their count and its rows in all. */
export function subjectFilesSql(files: readonly string[], subject: readonly string[], servedUpTo?: number): string {
  return `SELECT filename, count(*) FILTER (WHERE ${subjectFilterSql(subject, servedUpTo)}) AS hits, count(*) AS total
    FROM read_parquet(${stringList(files)}, filename = true) GROUP BY filename HAVING hits > 0 ORDER BY filename`;
}

/** One file, rewritten without the subject's rows (order kept). */
export function rewriteWithoutSql(file: string, subject: readonly string[], out: string, servedUpTo?: number): string {
  // Not hive-partitioned: the file's path would add its `date` as a column.
  return `COPY (SELECT * FROM read_parquet(${quoteString(file)}, hive_partitioning = false) WHERE NOT ${subjectFilterSql(subject, servedUpTo)}) TO ${quoteString(out)} (FORMAT parquet)`;
}

export function countSubjectSql(files: readonly string[], subject: readonly string[], servedUpTo?: number): string {
  return `SELECT count(*) AS n FROM ${readLogSql(files)} WHERE ${subjectFilterSql(subject, servedUpTo)}`;
}

/** One request's rows, each feature a row of its own (in served order), entity rows in order. */
export function requestFeaturesSql(files: readonly string[], requestId: string): string {
  return `WITH rows AS (
      SELECT request_id, served_at, service, row_index, entity, degraded, ${servedListSql()} AS fs
      FROM ${readLogSql(files)} WHERE request_id = ${quoteString(requestId)}
      QUALIFY row_number() OVER (PARTITION BY row_index ORDER BY served_at) = 1
    )
    SELECT request_id, strftime(served_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS served_at, service, row_index, entity, degraded,
      f.feature, f.view, f.version, f.value, f.status, f.event_time
    FROM (SELECT *, unnest(fs) AS f, generate_subscripts(fs, 1) AS position FROM rows)
    ORDER BY row_index, position`;
}
