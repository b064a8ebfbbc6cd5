import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, unlink } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { PARTITION_COLUMN, type FeatureViewSpec } from "../definitions/specs.js";
import { IngestValidationError, type DataProblem } from "../errors.js";
import type { ViewVersionRecord } from "../registry/registry-records.js";
import { microsToIso, dateToMicros, quoteString } from "../util/sql.js";
import { noProgress, type ProgressListener } from "../util/progress.js";
import { publishCommit, readCommits, syncDir, syncFile, writeDurably, type CommitDraft, type OfflineCommit } from "./commit-log.js";
import type { DuckDb } from "./duckdb.js";
import { compileIngest, FILE_COLUMN, problemQuery, STAGED_TABLE } from "./ingest-sql.js";
import { ViewVersionLayout } from "./offline-layout.js";
import { pendingMarker, sweepOrphans } from "./orphan-sweep.js";
import { formatOf, readFilesSql } from "./read-files-sql.js";
import { findTies } from "./tie-check.js";

/** How many rejected rows an ingestion error lists (the total is always reported). */
export const MAX_REPORTED_PROBLEMS = 20;

const ROWS_TABLE = "__strata_rows";

export interface IngestRequest {
  readonly record: ViewVersionRecord;
  readonly offlineRoot: string;
  /** Absolute path (or glob) of the input; its format comes from the extension or the view's source. */
  readonly path: string;
  readonly onProgress?: ProgressListener;
  /** Test hook: called at named points so a test can crash the process there. */
  readonly checkpoint?: (point: "staged" | "renamed") => void;
}

export interface IngestReport {
  readonly view: string;
  readonly version: number;
  readonly rows: number;
  /** Null when the input had no rows (nothing to commit). */
  readonly commit: OfflineCommit | null;
  readonly seconds: number;
}

/**
 * Validates an input file against a view version and commits it into the offline layout.
 * Rejected input changes nothing; a crash at any point leaves nothing visible (the commit
 * file is the only commit point, and the next ingestion sweeps what a crash left behind).
 */
export async function ingestFile(duck: DuckDb, request: IngestRequest): Promise<IngestReport> {
  const started = performance.now();
  const { record, path } = request;
  const progress = request.onProgress ?? noProgress;
  const format = formatOf(path) ?? record.spec.source.format;
  const ingestMicros = dateToMicros(new Date());
  try {
    progress({ phase: "reading input" });
    await stage(duck, path, format, record.spec.name, progress);
    progress({ phase: "validating" });
    await validateAndNormalize(duck, record.spec, path, ingestMicros);
    const [counts] = await duck.rows(`SELECT count(*) AS n, min(event_timestamp) AS lo, max(event_timestamp) AS hi FROM ${ROWS_TABLE}`);
    const rows = Number(counts?.n ?? 0);
    if (rows === 0) return { view: record.name, version: record.version, rows: 0, commit: null, seconds: (performance.now() - started) / 1000 };
    const selfTies = await findTies(duck, ROWS_TABLE, record.spec, []);
    const commit = await writeAndCommit(duck, request, {
      rows,
      minEventTimestamp: await isoOf(duck, "min"),
      maxEventTimestamp: await isoOf(duck, "max"),
      tieFree: !selfTies,
    });
    return { view: record.name, version: record.version, rows, commit, seconds: (performance.now() - started) / 1000 };
  } finally {
    await duck.run(`DROP TABLE IF EXISTS ${STAGED_TABLE}; DROP TABLE IF EXISTS ${ROWS_TABLE}`);
  }
}

async function isoOf(duck: DuckDb, fn: "min" | "max"): Promise<string> {
  const [row] = await duck.rows(`SELECT epoch_us(${fn}(event_timestamp)) AS us FROM ${ROWS_TABLE}`);
  return microsToIso(BigInt(row?.us as bigint));
}

async function stage(duck: DuckDb, path: string, format: "parquet" | "csv", view: string, progress: ProgressListener): Promise<void> {
  const read = readFilesSql(path, format, { csvAsText: true, fileColumn: FILE_COLUMN });
  try {
    await duck.run(`CREATE OR REPLACE TEMP TABLE ${STAGED_TABLE} AS SELECT * FROM ${read}`, (percent) => progress({ phase: "reading input", percent }));
  } catch (error) {
    const message = (error as Error).message.split("\n")[0] ?? "unreadable";
    throw new IngestValidationError(view, [{ file: path, message: `cannot read ${format.toUpperCase()} input: ${message}` }]);
  }
}

async function validateAndNormalize(duck: DuckDb, spec: FeatureViewSpec, path: string, ingestMicros: bigint): Promise<void> {
  const columns = await duck.describe(`SELECT * FROM ${STAGED_TABLE}`);
  const compiled = compileIngest(spec, columns, path, ingestMicros);
  if (compiled.problems.length > 0) throw new IngestValidationError(spec.name, compiled.problems);
  const failing = await duck.rows(problemQuery(compiled.checks, MAX_REPORTED_PROBLEMS));
  if (failing.length > 0) {
    const firstRow = new Map<string, bigint>();
    const files = [...new Set(failing.map((r) => String(r.file)))];
    for (const r of await duck.rows(`SELECT ${FILE_COLUMN} AS file, min(rowid) AS first FROM ${STAGED_TABLE} WHERE ${FILE_COLUMN} IN (${files.map(quoteString).join(", ")}) GROUP BY 1`)) {
      firstRow.set(String(r.file), BigInt(r.first as bigint));
    }
    const problems: DataProblem[] = failing.map((r) => ({
      file: String(r.file),
      row: Number(BigInt(r.row_id as bigint) - (firstRow.get(String(r.file)) ?? 0n)) + 1,
      column: String(r.column_name),
      message: r.value === null ? String(r.message) : `${JSON.stringify(r.value)} ${String(r.message)}`,
    }));
    throw new IngestValidationError(spec.name, problems, Number(failing[0]?.total));
  }
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${ROWS_TABLE} AS SELECT ${compiled.select.join(", ")}, CAST(event_timestamp AS DATE) AS ${PARTITION_COLUMN} FROM ${STAGED_TABLE}; DROP TABLE ${STAGED_TABLE}`);
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function writeAndCommit(duck: DuckDb, request: IngestRequest, stats: Pick<CommitDraft, "rows" | "minEventTimestamp" | "maxEventTimestamp" | "tieFree">): Promise<OfflineCommit> {
  const { record, offlineRoot } = request;
  const progress = request.onProgress ?? noProgress;
  const layout = new ViewVersionLayout(offlineRoot, record.name, record.version);
  const id = `${Date.now().toString(36)}${randomBytes(5).toString("hex")}`;
  await sweepOrphans(layout, await readCommits(layout));
  await writeDurably(layout.pendingFile(id), JSON.stringify(pendingMarker(id)));
  const staging = layout.stagingDir(id);
  const published: string[] = [];
  try {
    progress({ phase: "writing" });
    await mkdir(staging, { recursive: true });
    await duck.run(
      `COPY ${ROWS_TABLE} TO ${quoteString(staging)} (FORMAT parquet, PARTITION_BY (${PARTITION_COLUMN}), FILENAME_PATTERN ${quoteString(`part-${id}-{i}`)})`,
      (percent) => progress({ phase: "writing", percent }),
    );
    request.checkpoint?.("staged");
    const staged = await filesUnder(staging);
    const counts = await duck.rows(`SELECT file_name, num_rows FROM parquet_file_metadata([${staged.map(quoteString).join(", ")}])`);
    const files: CommitDraft["files"][number][] = [];
    for (const file of staged) {
      const path = relative(staging, file);
      const target = join(layout.dir, path);
      await syncFile(file);
      await mkdir(dirname(target), { recursive: true });
      await rename(file, target);
      published.push(target);
      files.push({ path, date: path.slice("date=".length, "date=".length + 10), rows: Number(counts.find((c) => c.file_name === file)?.num_rows ?? 0) });
    }
    for (const dir of new Set(published.map((p) => dirname(p)))) await syncDir(dir);
    request.checkpoint?.("renamed");
    const draft: CommitDraft = { id, committedAt: new Date().toISOString(), source: request.path, files, ...stats };
    const checkAgainst = async (commits: readonly OfflineCommit[], d: CommitDraft): Promise<CommitDraft> =>
      d.tieFree && (await findTies(duck, ROWS_TABLE, record.spec, filesOf(layout, commits, files))) ? { ...d, tieFree: false } : d;
    const commit = await publishCommit(layout, await checkAgainst(await readCommits(layout), draft), checkAgainst);
    return commit;
  } catch (error) {
    await Promise.all(published.map((p) => unlink(p).catch(() => undefined)));
    throw error;
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(layout.pendingFile(id), { force: true });
  }
}

/** Data files of `commits` in the dates `files` touch: the only places a tie with them can be. */
function filesOf(layout: ViewVersionLayout, commits: readonly OfflineCommit[], files: readonly { date: string }[]): string[] {
  const dates = new Set(files.map((f) => f.date));
  return commits.flatMap((c) => c.files.filter((f) => dates.has(f.date)).map((f) => join(layout.dir, f.path)));
}
