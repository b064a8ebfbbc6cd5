import { fullFeatureName } from "../definitions/feature-ref.js";
import type { ValueType } from "../definitions/value-type.js";
import { InvalidRequestError } from "../errors.js";
import type { DuckDb } from "../offline/duckdb.js";
import { loadEntities } from "../offline/entity-table.js";
import { TrainingSet, type ViewMatch } from "../offline/training-set.js";
import { noProgress, type ProgressListener } from "../util/progress.js";
import { requestIdTime } from "./request-id.js";
import { readableLogFiles } from "./readable-log-files.js";
import { datesAround } from "./serving-log-layout.js";
import { SERVED_LIST_TYPE } from "./serving-log-sql.js";
import { featureListSql, loggedKeysSql, matchedSql, resultSql, servedFeaturesSql, type OutputFeature, type RowMatch } from "./training-set-sql.js";

export interface ServingLogTrainingRequest {
  /**
   * Labels (a Parquet/CSV file, or rows): `request_id`, then `row_index` or the join keys to
   * pick the entity row of a batched request, and any label columns.
   */
  readonly labels: string | readonly Record<string, unknown>[];
  /** Name features `view__feature` instead of `feature`. */
  readonly fullFeatureNames?: boolean;
  readonly onProgress?: ProgressListener;
}

export interface ServingLogTrainingSet {
  /** Every label row once, in input order: its columns, each served feature, served_at. */
  readonly set: TrainingSet;
  /** Label rows whose request (and row) is in the log, and those with none (their features are null). */
  readonly matched: number;
  readonly unmatched: number;
}

/** A feature's type in a view version (from the registry); undefined when unknown. */
export type FeatureTypeOf = (view: string, version: number, feature: string) => ValueType | undefined;

let sequence = 0;

/**
 * A training set of the features as they were served: each label row joined to the logged
 * response its `request_id` names. Only the date partitions the labels' request ids imply are
 * read; the join runs in DuckDB.
 */
export async function trainingSetFromServingLog(duck: DuckDb, offlineRoot: string, typeOf: FeatureTypeOf, request: ServingLogTrainingRequest): Promise<ServingLogTrainingSet> {
  const started = performance.now();
  const progress = request.onProgress ?? noProgress;
  const id = ++sequence;
  const [labels, matched, features, result] = ["labels", "matched", "features", "result"].map((t) => `__strata_log_${t}_${id}`) as [string, string, string, string];
  progress({ phase: "loading labels" });
  await loadEntities(duck, labels, request.labels);
  try {
    const columns = await duck.describe(`SELECT * FROM ${labels}`);
    const names = new Set(columns.map((c) => c.name));
    if (!names.has("request_id")) throw new InvalidRequestError(`labels have no "request_id" column (they have: ${[...names].join(", ")})`);
    for (const reserved of ["served_at", ...[...names].filter((n) => n.startsWith("__"))]) {
      if (names.has(reserved)) throw new InvalidRequestError(`label column "${reserved}": that name is reserved (${reserved === "served_at" ? "the output's time of serving" : 'names starting with "__"'})`);
    }
    progress({ phase: "joining" });
    const files = await readableLogFiles(duck, offlineRoot, await requestDates(duck, labels));
    const match = files.length === 0 ? undefined : await rowMatch(duck, files, labels, names);
    await duck.run(`CREATE TEMP TABLE ${matched} AS ${match === undefined ? `SELECT NULL::BIGINT AS label_row, NULL::TIMESTAMPTZ AS served_at, NULL::${SERVED_LIST_TYPE} AS served WHERE false` : matchedSql(files, labels, match)}`);
    await duck.run(`CREATE TEMP TABLE ${features} AS ${servedFeaturesSql(matched)}`);
    const outputs = outputFeatures(await duck.rows(featureListSql(features)), typeOf, request.fullFeatureNames === true, names);
    await duck.run(`CREATE TEMP TABLE ${result} AS ${resultSql(labels, matched, features, outputs)}`);
    const [counts] = await duck.rows(`SELECT (SELECT count(*) FROM ${labels}) AS n, (SELECT count(*) FROM ${matched}) AS matched`);
    const rowCount = Number(counts?.n);
    const matchedRows = Number(counts?.matched);
    const perView = await duck.rows(`SELECT view, version, count(DISTINCT label_row) AS matched FROM ${features} GROUP BY view, version ORDER BY view, version`);
    const views: ViewMatch[] = perView.map((v) => ({ view: v.view as string, version: v.version as number, matched: Number(v.matched as bigint), matchRate: rowCount === 0 ? 0 : Number(v.matched as bigint) / rowCount }));
    const outColumns = (await duck.describe(`SELECT * FROM ${result}`)).map((c) => ({ name: c.name, sqlType: c.type === "TIMESTAMPTZ" ? "TIMESTAMP WITH TIME ZONE" : c.type }));
    const set = new TrainingSet(duck, result, outColumns, rowCount, views, (performance.now() - started) / 1000);
    return { set, matched: matchedRows, unmatched: rowCount - matchedRows };
  } catch (error) {
    await duck.run(`DROP TABLE IF EXISTS ${result}`);
    throw error;
  } finally {
    for (const table of [labels, matched, features]) await duck.run(`DROP TABLE IF EXISTS ${table}`);
  }
}

/** The date partitions the labels' request ids point to (and the days either side). */
async function requestDates(duck: DuckDb, labels: string): Promise<string[]> {
  const prefixes = await duck.rows(`SELECT DISTINCT CAST(request_id AS VARCHAR) AS id FROM ${labels} WHERE request_id IS NOT NULL`);
  const dates = new Set<string>();
  for (const { id } of prefixes) {
    const at = requestIdTime(id as string);
    if (at !== undefined) for (const date of datesAround(at)) dates.add(date);
  }
  return [...dates];
}

/** row_index when the labels have it; else the join keys the labels share with the logged rows. */
async function rowMatch(duck: DuckDb, files: readonly string[], labels: string, names: ReadonlySet<string>): Promise<RowMatch> {
  if (names.has("row_index")) return { by: "row_index" };
  const logged = (await duck.rows(loggedKeysSql(files, labels))).map((r) => r.key as string);
  const keys = logged.filter((k) => names.has(k));
  if (keys.length === 0 && logged.length > 0) {
    throw new InvalidRequestError(`labels need a "row_index" column or the join keys (${logged.join(", ")}) to pick the entity row of each request`);
  }
  return { by: "keys", keys };
}

/** Output columns for the served features: typed from the registry, named as asked, never clashing. */
function outputFeatures(found: readonly Record<string, unknown>[], typeOf: FeatureTypeOf, fullNames: boolean, labelColumns: ReadonlySet<string>): OutputFeature[] {
  const taken = new Set(labelColumns);
  return found.map((f) => {
    const ref = f.feature as string;
    const view = f.view as string;
    const name = ref.slice(view.length + 1);
    const types = new Set((f.versions as number[]).map((v) => typeOf(view, v, name)?.name));
    const type = types.size === 1 ? typeOf(view, (f.versions as number[])[0]!, name) : undefined;
    const output = fullNames ? fullFeatureName(view, name) : name;
    if (taken.has(output)) throw new InvalidRequestError(`output column "${output}" would appear twice (a label column or another view's feature); use full feature names (--full-feature-names)`);
    taken.add(output);
    return { ref, output, type };
  });
}
