import { CREATED_TIMESTAMP, EVENT_TIMESTAMP, type FeatureViewSpec } from "../definitions/specs.js";
import { Timestamp, valueTypeFromName, withArticle, type ValueType } from "../definitions/value-type.js";
import type { DataProblem } from "../errors.js";
import { quoteIdent, quoteString, timestampLiteral } from "../util/sql.js";
import { accepts, categorize, duckdbType, type ColumnCategory } from "./duckdb-types.js";

/** The staged copy of the input: source columns plus `__file` (which file a row came from). */
export const STAGED_TABLE = "__strata_src";
export const FILE_COLUMN = "__file";

/** A per-row condition: rows where `failsWhen` holds are rejected with `message`. */
export interface RowCheck {
  readonly column: string;
  readonly failsWhen: string;
  readonly message: string;
}

export interface IngestSql {
  /** Column-level problems (missing or wrongly typed columns); when non-empty nothing else applies. */
  readonly problems: DataProblem[];
  readonly checks: RowCheck[];
  /** Select list turning a staged row into the stored row: join keys, event_timestamp, created_timestamp, features. */
  readonly select: string[];
}

/**
 * Compiles the validation and normalization of one input for one view (pure; no database).
 * Values are converted, never guessed: a value that does not convert exactly is a row problem.
 *
 * @example
 * compileIngest(view, [{ name: "driver_id", type: "BIGINT" }, ...], "data.parquet", ingestMicros).select
 */
export function compileIngest(
  view: FeatureViewSpec,
  columns: readonly { name: string; type: string }[],
  file: string,
  ingestMicros: bigint,
  /** CSV: every column is text and each value is parsed. Typed sources must match by type. */
  textual: boolean,
): IngestSql {
  const sourceName = new Map<string, string>(); // view column → source column
  for (const c of [...view.joinKeys.map((k) => k.name), ...view.features.map((f) => f.name)]) sourceName.set(c, c);
  for (const [from, to] of Object.entries(view.source.fieldMapping)) sourceName.set(to, from);
  const typeOf = new Map(columns.map((c) => [c.name, c.type]));
  const problems: DataProblem[] = [];
  const checks: RowCheck[] = [];
  const select: string[] = [];
  const available = columns.map((c) => c.name).filter((n) => n !== FILE_COLUMN);

  const column = (target: string, source: string, type: ValueType, required: string): string | undefined => {
    const sqlType = typeOf.get(source);
    if (sqlType === undefined) {
      problems.push({ file, column: source, message: `missing ${required} column (the file has: ${available.join(", ")})` });
      return undefined;
    }
    const category = categorize(sqlType);
    // Typed files (Parquet) may carry text only for text features, or timestamps to parse.
    const textAllowed = textual || required === "timestamp" || (!type.isArray && type.scalar === "String");
    if ((category === "string" && !textAllowed) || !accepts(type, category)) {
      problems.push({ file, column: source, message: `has type ${sqlType}, which cannot hold ${required === "timestamp" ? "a timestamp" : withArticle(type)}` });
      return undefined;
    }
    const converted = convert(quoteIdent(source), category, type);
    if (converted.check !== undefined) checks.push({ column: source, failsWhen: converted.check, message: `is not ${withArticle(type)}` });
    return converted.expr;
  };

  for (const key of view.joinKeys) {
    const expr = column(key.name, sourceName.get(key.name)!, valueTypeFromName(key.type)!, "join key");
    if (expr === undefined) continue;
    checks.push({ column: sourceName.get(key.name)!, failsWhen: `${quoteIdent(sourceName.get(key.name)!)} IS NULL`, message: "join key is null" });
    select.push(`${expr} AS ${quoteIdent(key.name)}`);
  }
  const event = column(EVENT_TIMESTAMP, view.source.timestampField, Timestamp, "timestamp");
  if (event !== undefined) {
    checks.push({ column: view.source.timestampField, failsWhen: `${event} IS NULL OR NOT isfinite(${event})`, message: "event timestamp is missing, unparseable or infinite" });
    select.push(`${event} AS ${EVENT_TIMESTAMP}`);
  }
  const createdField = view.source.createdTimestampField;
  const created = createdField === null ? undefined : column(CREATED_TIMESTAMP, createdField, Timestamp, "timestamp");
  if (createdField !== null && created !== undefined) {
    checks.push({ column: createdField, failsWhen: `${created} IS NOT NULL AND NOT isfinite(${created})`, message: "created timestamp is infinite" });
  }
  // A source without a created column (or a null in it) gets the ingest time, per DESIGN.md.
  select.push(`${created === undefined ? timestampLiteral(ingestMicros) : `COALESCE(${created}, ${timestampLiteral(ingestMicros)})`} AS ${CREATED_TIMESTAMP}`);
  for (const feature of view.features) {
    const expr = column(feature.name, sourceName.get(feature.name)!, valueTypeFromName(feature.type)!, "feature");
    if (expr !== undefined) select.push(`${expr} AS ${quoteIdent(feature.name)}`);
  }
  return { problems, checks, select };
}

/**
 * How a source column becomes a value of `type`, and the condition under which a non-null
 * input fails to convert exactly (text that does not parse, fractions or NaN into integers,
 * out-of-range numbers).
 */
function convert(col: string, category: ColumnCategory, type: ValueType): { expr: string; check?: string } {
  const sqlType = duckdbType(type);
  const integer = !type.isArray && (type.scalar === "Int32" || type.scalar === "Int64");
  if (category === "string") {
    if (integer) {
      return { expr: `TRY_CAST(${col} AS ${sqlType})`, check: `${col} IS NOT NULL AND (NOT regexp_full_match(trim(${col}), '[+-]?[0-9]+') OR TRY_CAST(${col} AS ${sqlType}) IS NULL)` };
    }
    if (sqlType === "VARCHAR") return { expr: col };
    const cast = `TRY_CAST(${col} AS ${sqlType})`;
    if (sqlType === "FLOAT" || sqlType === "DOUBLE") {
      // Out-of-range text ("1e39" for a Float32) parses as infinity; only a written infinity may.
      return { expr: cast, check: `${col} IS NOT NULL AND (${cast} IS NULL OR (isinf(${cast}) AND NOT regexp_full_match(lower(trim(${col})), '[+-]?inf(inity)?')))` };
    }
    return { expr: cast, check: `${col} IS NOT NULL AND ${cast} IS NULL` };
  }
  if (integer && category === "float") {
    // pandas stores nullable integers as floats with NaN for missing: NaN means null here.
    const expr = `CASE WHEN isnan(${col}) THEN NULL ELSE TRY_CAST(${col} AS ${sqlType}) END`;
    return { expr, check: `${col} IS NOT NULL AND NOT isnan(${col}) AND (${col} <> trunc(${col}) OR TRY_CAST(${col} AS ${sqlType}) IS NULL)` };
  }
  if (integer && category === "decimal") {
    return { expr: `TRY_CAST(${col} AS ${sqlType})`, check: `${col} IS NOT NULL AND (${col} <> trunc(${col}) OR TRY_CAST(${col} AS ${sqlType}) IS NULL)` };
  }
  return { expr: `TRY_CAST(${col} AS ${sqlType})`, check: `${col} IS NOT NULL AND TRY_CAST(${col} AS ${sqlType}) IS NULL` };
}

/** The query listing the first `limit` failing rows (with the total), over the staged table. */
export function problemQuery(checks: readonly RowCheck[], limit: number): string {
  const parts = checks.map(
    (c) =>
      `SELECT rowid AS row_id, ${FILE_COLUMN} AS file, ${quoteString(c.column)} AS column_name, CAST(${quoteIdent(c.column)} AS VARCHAR) AS value, ${quoteString(c.message)} AS message FROM ${STAGED_TABLE} WHERE ${c.failsWhen}`,
  );
  return `SELECT *, count(*) OVER () AS total FROM (${parts.join("\nUNION ALL\n")}) ORDER BY row_id, column_name LIMIT ${limit}`;
}
