import { fullFeatureName } from "../definitions/feature-ref.js";
import { InvalidRequestError } from "../errors.js";
import type { ResolvedViewFeatures } from "../registry/resolve-features.js";
import { noProgress, type ProgressListener } from "../util/progress.js";
import { quoteIdent, stringList } from "../util/sql.js";
import { readCommits } from "./commit-log.js";
import type { DuckDb } from "./duckdb.js";
import { duckdbType } from "./duckdb-types.js";
import { loadEntities } from "./entity-table.js";
import { committedFiles, datesBetween, partitionDate, ViewVersionLayout } from "./offline-layout.js";
import { computeAggregates } from "../aggregation/plan-aggregation.js";
import { compilePointInTime, matchedColumn, type PitView } from "./point-in-time-sql.js";
import { TrainingSet } from "./training-set.js";
import type { ErasureRecord } from "../erasure/erasure-record.js";
import { erasuresRowSql } from "../erasure/subject.js";

export interface HistoricalRequest {
  /** A Parquet/CSV file of entity rows (join keys, a timestamp, any extra columns), or the rows themselves. */
  readonly entities: string | readonly Record<string, unknown>[];
  readonly views: readonly ResolvedViewFeatures[];
  /** The entity rows' time column. Default: "event_timestamp". */
  readonly timestampColumn?: string;
  readonly inclusive?: boolean;
  readonly asOfIngestion?: boolean;
  /** Name features `view__feature` instead of `feature`. */
  readonly fullFeatureNames?: boolean;
  readonly onProgress?: ProgressListener;
  /** Erasures whose offline rows are not rewritten yet (erase --defer-compaction): their tombstones hide the rows. */
  readonly pendingErasures?: readonly ErasureRecord[];
}

let sequence = 0;

/** Runs a point-in-time retrieval (see compilePointInTime for the contract) over the offline store. */
export async function retrieveHistorical(duck: DuckDb, offlineRoot: string, request: HistoricalRequest): Promise<TrainingSet> {
  const started = performance.now();
  const progress = request.onProgress ?? noProgress;
  const id = ++sequence;
  const entityTable = `__strata_entities_${id}`;
  const resultTable = `__strata_result_${id}`;
  const timestampColumn = request.timestampColumn ?? "event_timestamp";
  progress({ phase: "loading entities" });
  await loadEntities(duck, entityTable, request.entities);
  const aggregateTables: string[] = [];
  try {
    const entityColumns = await duck.describe(`SELECT * FROM ${entityTable}`);
    await checkEntities(duck, entityTable, entityColumns, timestampColumn, request.views);
    const [range] = await duck.rows(`SELECT epoch_us(min(CAST(${quoteIdent(timestampColumn)} AS TIMESTAMPTZ))) AS lo, epoch_us(max(CAST(${quoteIdent(timestampColumn)} AS TIMESTAMPTZ))) AS hi FROM ${entityTable}`);
    const timeRange = range?.lo === null || range === undefined ? null : { min: BigInt(range.lo as bigint), max: BigInt(range.hi as bigint) };
    progress({ phase: "planning" });
    const entityTypes = new Map(entityColumns.map((c) => [c.name, c.type]));
    const views = [];
    for (const [i, v] of request.views.entries()) {
      if (v.record.spec.aggregation === undefined) views.push({ ...(await planView(duck, offlineRoot, v, timeRange, request.fullFeatureNames ?? false)), hidden: erasuresRowSql(v.record, request.pendingErasures ?? []) });
      else {
        const table = `${resultTable}_agg${i}`;
        aggregateTables.push(table);
        const input = { entityTable, entityTypes, timestampColumn, timeRange, fullFeatureNames: request.fullFeatureNames ?? false, asOfIngestion: request.asOfIngestion ?? false, resultTable: table };
        const features = (await computeAggregates(duck, offlineRoot, v, input)).map((f) => ({ ...f, present: true }));
        views.push({ joinKeys: [], features, files: [], ttlSeconds: null, tieFree: true, precomputed: table });
      }
    }
    checkOutputNames(entityColumns.map((c) => c.name), views);
    const sql = compilePointInTime({ entityTable, entityColumns: entityColumns.map((c) => ({ name: c.name, sqlType: c.type })), timestampColumn, views, inclusive: request.inclusive ?? false, asOfIngestion: request.asOfIngestion ?? false });
    progress({ phase: "joining" });
    await duck.run(`CREATE TEMP TABLE ${resultTable} AS ${sql}`, (percent) => progress({ phase: "joining", percent }));
    const sums = views.map((_, i) => `sum(${matchedColumn(i)}::BIGINT) AS m${i}`);
    const [stats] = await duck.rows(`SELECT count(*) AS n${sums.length > 0 ? `, ${sums.join(", ")}` : ""} FROM ${resultTable}`);
    const rowCount = Number(stats?.n ?? 0);
    const matches = request.views.map((v, i) => {
      const matched = Number(stats?.[`m${i}`] ?? 0);
      return { view: v.record.name, version: v.record.version, matched, matchRate: rowCount === 0 ? 0 : matched / rowCount };
    });
    const columns = [...entityColumns, ...views.flatMap((v) => v.features.map((f) => ({ name: f.output, type: f.sqlType })))].map((c) => ({ name: c.name, sqlType: normalizeType(c.type) }));
    return new TrainingSet(duck, resultTable, columns, rowCount, matches, (performance.now() - started) / 1000);
  } finally {
    for (const table of [entityTable, ...aggregateTables]) await duck.run(`DROP TABLE IF EXISTS ${table}`);
  }
}

const normalizeType = (t: string): string => (t === "TIMESTAMPTZ" ? "TIMESTAMP WITH TIME ZONE" : t);

async function checkEntities(
  duck: DuckDb,
  table: string,
  columns: readonly { name: string; type: string }[],
  timestampColumn: string,
  views: readonly ResolvedViewFeatures[],
): Promise<void> {
  const names = new Set(columns.map((c) => c.name));
  const reserved = columns.find((c) => c.name.startsWith("__"));
  if (reserved !== undefined) throw new InvalidRequestError(`entity column "${reserved.name}": names starting with "__" are reserved`);
  if (!names.has(timestampColumn)) {
    throw new InvalidRequestError(`entity rows have no timestamp column "${timestampColumn}" (they have: ${[...names].join(", ")}); pass the right one with --timestamp-column`);
  }
  for (const { record } of views) {
    const missing = record.spec.joinKeys.filter((k) => !names.has(k.name));
    if (missing.length > 0) throw new InvalidRequestError(`entity rows lack join key ${missing.map((k) => `"${k.name}"`).join(", ")} of feature view "${record.name}"`);
  }
  const bad = await duck.rows(
    `SELECT rowid AS row_id, CAST(${quoteIdent(timestampColumn)} AS VARCHAR) AS value FROM ${table} WHERE TRY_CAST(${quoteIdent(timestampColumn)} AS TIMESTAMPTZ) IS NULL OR NOT isfinite(TRY_CAST(${quoteIdent(timestampColumn)} AS TIMESTAMPTZ)) ORDER BY rowid LIMIT 5`,
  );
  if (bad.length > 0) {
    const rows = bad.map((r) => `row ${Number(r.row_id as bigint) + 1} (${r.value === null ? "null" : JSON.stringify(r.value)})`);
    throw new InvalidRequestError(`entity column "${timestampColumn}" has missing or unparseable timestamps: ${rows.join(", ")}`);
  }
  for (const { record } of views) {
    for (const key of record.spec.joinKeys) {
      const sqlType = duckdbType(key.type);
      const column = quoteIdent(key.name);
      const badKeys = await duck.rows(`SELECT rowid AS row_id, CAST(${column} AS VARCHAR) AS value FROM ${table} WHERE ${column} IS NOT NULL AND TRY_CAST(${column} AS ${sqlType}) IS NULL LIMIT 3`);
      if (badKeys.length > 0) {
        const rows = badKeys.map((r) => `row ${Number(r.row_id as bigint) + 1} (${JSON.stringify(r.value)})`);
        throw new InvalidRequestError(`entity column "${key.name}" must hold ${key.type} join keys for feature view "${record.name}": ${rows.join(", ")}`);
      }
    }
  }
}

/** Chooses the view's files (only partitions the entity time range can reach) and its plan. */
async function planView(
  duck: DuckDb,
  offlineRoot: string,
  resolved: ResolvedViewFeatures,
  timeRange: { min: bigint; max: bigint } | null,
  fullNames: boolean,
): Promise<PitView & { features: { output: string; sqlType: string }[] }> {
  const { record } = resolved;
  const layout = new ViewVersionLayout(offlineRoot, record.name, record.version);
  const ttl = record.spec.ttlSeconds;
  const from = timeRange === null || ttl === null ? "" : partitionDate(timeRange.min - BigInt(ttl) * 1_000_000n);
  const to = timeRange === null ? "" : partitionDate(timeRange.max);
  const all = await readCommits(layout);
  const inRange = timeRange === null ? () => false : datesBetween(from, to);
  const files = committedFiles(layout, all, inRange);
  const commits = all.filter((c) => c.files.some((f) => inRange(f.date)));
  const stored = files.length === 0 ? new Set<string>() : new Set((await duck.describe(`SELECT * FROM read_parquet(${stringList(files)}, union_by_name = true)`)).map((c) => c.name));
  return {
    joinKeys: record.spec.joinKeys.map((k) => ({ name: k.name, sqlType: duckdbType(k.type) })),
    features: resolved.features.map((f) => ({
      stored: f.name,
      output: fullNames ? fullFeatureName(record.name, f.name) : f.name,
      sqlType: duckdbType(f.type),
      present: stored.has(f.name),
    })),
    files,
    ttlSeconds: ttl,
    tieFree: commits.every((c) => c.tieFree),
  };
}

function checkOutputNames(entityColumns: readonly string[], views: readonly { features: readonly { output: string }[] }[]): void {
  const taken = new Set(entityColumns);
  for (const { output } of views.flatMap((v) => v.features)) {
    if (taken.has(output)) {
      throw new InvalidRequestError(`output column "${output}" would appear twice (an entity column or another view's feature); use full feature names (--full-feature-names)`);
    }
    taken.add(output);
  }
}
