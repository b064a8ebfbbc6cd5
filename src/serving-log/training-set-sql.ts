import type { ValueType } from "../definitions/value-type.js";
import { duckdbType } from "../offline/duckdb-types.js";
import { quoteIdent, quoteString, stringList } from "../util/sql.js";
import { servedListSql } from "./serving-log-sql.js";

/**
 * SQL for a training set from the serving log: label rows (request_id, then row_index or the
 * join keys) matched to the rows their requests were served, features as columns. Pure.
 */

/** How a label picks the entity row of its request: by position, or by its join key columns. */
export type RowMatch = { readonly by: "row_index" } | { readonly by: "keys"; readonly keys: readonly string[] };

/** The logged rows of the labels' requests, once each (a row written twice by a retried flush counts once). */
function loggedSql(files: readonly string[], labels: string): string {
  return `SELECT request_id, row_index, served_at, subject_keys, entity, features, feature_values, statuses, event_timestamps FROM read_parquet(${stringList(files)})
    WHERE request_id IN (SELECT CAST(request_id AS VARCHAR) FROM ${labels})
    QUALIFY row_number() OVER (PARTITION BY request_id, row_index ORDER BY served_at) = 1`;
}

/** The join key names of the labels' logged rows. */
export function loggedKeysSql(files: readonly string[], labels: string): string {
  return `SELECT DISTINCT unnest(json_keys(entity)) AS key FROM (${loggedSql(files, labels)}) ORDER BY key`;
}

/**
 * Per label row (its rowid), the one logged row it names: same request, and the same row
 * index or a row holding every `key=value` of its join keys (the first such row when several).
 * A null key (a label of a request without that key) is ignored: list_has_all skips NULLs.
 */
export function matchedSql(files: readonly string[], labels: string, match: RowMatch): string {
  const condition =
    match.by === "row_index"
      ? "g.row_index = l.row_index"
      : `list_has_all(g.subject_keys, [${match.keys.map((k) => `${quoteString(`${k}=`)} || CAST(l.${quoteIdent(k)} AS VARCHAR)`).join(", ")}])`;
  // The served list is decoded for the matched rows only, outside the join (label columns cannot clash with the log's).
  return `WITH logged AS (${loggedSql(files, labels)}),
    m AS (
      SELECT l.rowid AS label_row, g.served_at, g.features, g.feature_values, g.statuses, g.event_timestamps
      FROM ${labels} l JOIN logged g ON g.request_id = CAST(l.request_id AS VARCHAR) AND ${condition}
      QUALIFY row_number() OVER (PARTITION BY l.rowid ORDER BY g.row_index) = 1
    )
    SELECT label_row, served_at, ${servedListSql()} AS served FROM m`;
}

/** The matched rows' features, one row per (label row, feature), with their position in the response. */
export function servedFeaturesSql(matched: string): string {
  return `SELECT label_row, f.feature, f.view, f.version, f.value, position
    FROM (SELECT label_row, unnest(served) AS f, generate_subscripts(served, 1) AS position FROM ${matched})`;
}

/** Each served feature once, in order of first appearance, with the view versions that served it. */
export function featureListSql(features: string): string {
  return `SELECT feature, view, list(DISTINCT version ORDER BY version) AS versions FROM ${features}
    GROUP BY feature, view ORDER BY min([label_row, position]), feature`;
}

/** A logged value (JSON text) as its feature's type; untyped (a version the registry lost): the JSON text. */
export function typedValueSql(json: string, type: ValueType | undefined): string {
  if (type === undefined) return `json_extract_string(${json}, '$')`;
  if (type.isArray) return `from_json(${json}, '["${duckdbType(type).slice(0, -2)}"]')`;
  if (type.scalar === "Bytes") return `from_base64(json_extract_string(${json}, '$'))`;
  if (type.scalar === "Timestamp") return `CAST(json_extract_string(${json}, '$') AS TIMESTAMPTZ)`;
  return `from_json(${json}, '"${duckdbType(type)}"')`;
}

export interface OutputFeature {
  /** "view:feature", as logged. */
  readonly ref: string;
  readonly output: string;
  readonly type: ValueType | undefined;
}

/** Every label row once, in input order, with its columns, the served features and served_at (nulls when unmatched). */
export function resultSql(labels: string, matched: string, features: string, outputs: readonly OutputFeature[]): string {
  const picks = outputs.map((o, i) => `any_value(value) FILTER (WHERE feature = ${quoteString(o.ref)}) AS v${i}`);
  const wide = outputs.length === 0 ? "SELECT NULL::BIGINT AS label_row WHERE false" : `SELECT label_row, ${picks.join(", ")} FROM ${features} GROUP BY label_row`;
  const columns = outputs.map((o, i) => `${typedValueSql(`w.v${i}`, o.type)} AS ${quoteIdent(o.output)}`);
  return `WITH wide AS (${wide})
    SELECT l.*, ${[...columns, "m.served_at AS served_at"].join(", ")}
    FROM ${labels} l LEFT JOIN ${matched} m ON m.label_row = l.rowid LEFT JOIN wide w ON w.label_row = l.rowid
    ORDER BY l.rowid`;
}
