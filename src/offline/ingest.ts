import { storedView } from "../aggregation/stored-view.js";
import type { FeatureViewSpec, SourceFormat } from "../definitions/specs.js";
import { IngestValidationError, type DataProblem } from "../errors.js";
import type { ViewVersionRecord } from "../registry/registry-records.js";
import { noProgress, type ProgressListener } from "../util/progress.js";
import { dateToMicros, microsToIso, quoteString } from "../util/sql.js";
import type { OfflineCommit } from "./commit-log.js";
import type { DuckDb } from "./duckdb.js";
import { compileIngest, FILE_COLUMN, problemQuery, STAGED_TABLE } from "./ingest-sql.js";
import { inputFiles } from "./input-files.js";
import { publishIngest, ROWS_TABLE } from "./publish-ingest.js";
import { formatOf, readFilesSql } from "./read-files-sql.js";
import { hasSelfTies } from "./tie-check.js";

/** How many rejected rows an ingestion error lists (the total is always reported). */
export const MAX_REPORTED_PROBLEMS = 20;

export interface IngestRequest {
  readonly record: ViewVersionRecord;
  readonly offlineRoot: string;
  /** Absolute path or glob of the input; its format comes from the extension, else the view's source. */
  readonly path: string;
  readonly onProgress?: ProgressListener;
  /** What the commit records as its source; default: the path. A stream processor records the message range. */
  readonly sourceLabel?: string;
  /** Rows to leave out (SQL over the stored columns): an erased subject's from at or before its erasure (a re-ingested source, a replay). */
  readonly dropRows?: string;
  /** Test hook: called at named points so a test can crash or pause the process there. */
  readonly checkpoint?: (point: "staged" | "renamed") => void;
}

export interface IngestReport {
  readonly view: string;
  readonly version: number;
  readonly rows: number;
  /** Rows left out because an erasure covers them (see IngestRequest.dropRows). */
  readonly erased: number;
  /** Null when the input had no rows (nothing to commit). */
  readonly commit: OfflineCommit | null;
  readonly seconds: number;
}

/**
 * Validates input files against a view version and commits them into the offline layout.
 * Rejected input changes nothing; a crash at any point leaves nothing visible (see
 * publishIngest). Empty files (0 bytes, or a header only) contribute no rows.
 */
export async function ingestFile(duck: DuckDb, request: IngestRequest): Promise<IngestReport> {
  const started = performance.now();
  const { record, path } = request;
  const format = formatOf(path) ?? record.spec.source.format;
  const files = await inputFiles(duck, path);
  if (files.length === 0) throw new IngestValidationError(record.name, [{ file: path, message: "no such file (or no file matches the pattern)" }]);
  const nonEmpty = files.filter((f) => f.size > 0).map((f) => f.path);
  if (nonEmpty.length === 0) return ingestReport(request, started, 0, 0, null);
  return ingestStaged(duck, request, started, nonEmpty, format, () => stage(duck, nonEmpty, format, record.spec.name, request.onProgress ?? noProgress));
}

/**
 * Ingests the rows a query gives (typed columns named as the view's source names them), as
 * `ingestFile` ingests a file's: validated, then committed; `request.path` names the input in
 * errors. Rows made in memory (a push, a stream's event log) are read straight into the staged
 * table this way, not written to a Parquet file first and read back.
 */
export function ingestQuery(duck: DuckDb, request: IngestRequest, query: string): Promise<IngestReport> {
  const staging = `CREATE OR REPLACE TEMP TABLE ${STAGED_TABLE} AS SELECT *, ${quoteString(request.path)} AS ${FILE_COLUMN} FROM (${query})`;
  // Typed columns, as a Parquet file's: validation compares types, it parses no text.
  return ingestStaged(duck, request, performance.now(), [request.path], "parquet", () => duck.run(staging));
}

const ingestReport = (request: IngestRequest, started: number, rows: number, erased: number, commit: OfflineCommit | null): IngestReport => ({
  view: request.record.name,
  version: request.record.version,
  rows,
  erased,
  commit,
  seconds: (performance.now() - started) / 1000,
});

/** Stages the input (`stage` fills STAGED_TABLE from `files`), then validates, drops erased rows and publishes. */
async function ingestStaged(duck: DuckDb, request: IngestRequest, started: number, files: readonly string[], format: SourceFormat, stage: () => Promise<void>): Promise<IngestReport> {
  const { record } = request;
  const progress = request.onProgress ?? noProgress;
  let erased = 0;
  const report = (rows: number, commit: OfflineCommit | null): IngestReport => ingestReport(request, started, rows, erased, commit);
  try {
    progress({ phase: "reading input" });
    await stage();
    const [staged] = await duck.rows(`SELECT count(*) AS n FROM ${STAGED_TABLE}`);
    if (staged?.n === 0n) return report(0, null); // header-only or row-less files: nothing to check or write
    progress({ phase: "validating" });
    await validateAndNormalize(duck, storedView(record.spec), files, format, dateToMicros(new Date()));
    if (request.dropRows !== undefined) {
      const [dropped] = await duck.rows(`SELECT count(*) AS n FROM ${ROWS_TABLE} WHERE ${request.dropRows}`);
      erased = Number(dropped?.n ?? 0);
      if (erased > 0) await duck.run(`DELETE FROM ${ROWS_TABLE} WHERE ${request.dropRows}`);
    }
    const [stats] = await duck.rows(`SELECT count(*) AS n, epoch_us(min(event_timestamp)) AS lo, epoch_us(max(event_timestamp)) AS hi FROM ${ROWS_TABLE}`);
    const rows = Number(stats?.n ?? 0);
    if (rows === 0) return report(0, null);
    const commit = await publishIngest(duck, request, {
      rows,
      minEventTimestamp: microsToIso(stats?.lo as bigint),
      maxEventTimestamp: microsToIso(stats?.hi as bigint),
      tieFree: !(await hasSelfTies(duck, ROWS_TABLE, storedView(record.spec))),
    });
    return report(rows, commit);
  } finally {
    await duck.run(`DROP TABLE IF EXISTS ${STAGED_TABLE}; DROP TABLE IF EXISTS ${ROWS_TABLE}`);
  }
}

async function stage(duck: DuckDb, files: readonly string[], format: SourceFormat, view: string, progress: ProgressListener): Promise<void> {
  const read = readFilesSql(files, format, { csvAsText: true, fileColumn: FILE_COLUMN });
  try {
    await duck.run(`CREATE OR REPLACE TEMP TABLE ${STAGED_TABLE} AS SELECT * FROM ${read}`, (percent) => progress({ phase: "reading input", percent }));
  } catch (error) {
    const message = (error as Error).message.split("\n")[0] ?? "unreadable";
    throw new IngestValidationError(view, [{ file: files.length === 1 ? files[0]! : files.join(", "), message: `cannot read ${format.toUpperCase()} input: ${message}` }]);
  }
}

async function validateAndNormalize(duck: DuckDb, spec: FeatureViewSpec, files: readonly string[], format: SourceFormat, ingestMicros: bigint): Promise<void> {
  const textual = format === "csv";
  // Several files are read by column name into one table, which would hide a column that one
  // of them lacks: check each file's own columns first.
  if (files.length > 1) {
    const problems: DataProblem[] = [];
    for (const file of files) {
      const columns = await duck.describe(`SELECT * FROM ${readFilesSql(file, format, { csvAsText: true })}`);
      problems.push(...compileIngest(spec, columns, file, ingestMicros, textual).problems);
    }
    if (problems.length > 0) throw new IngestValidationError(spec.name, problems);
  }
  const columns = await duck.describe(`SELECT * FROM ${STAGED_TABLE}`);
  const compiled = compileIngest(spec, columns, files[0]!, ingestMicros, textual);
  if (compiled.problems.length > 0) throw new IngestValidationError(spec.name, compiled.problems);
  const failing = await duck.rows(problemQuery(compiled.checks, MAX_REPORTED_PROBLEMS));
  if (failing.length > 0) throw new IngestValidationError(spec.name, await locate(duck, failing), Number(failing[0]?.total));
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${ROWS_TABLE} AS SELECT ${compiled.select.join(", ")} FROM ${STAGED_TABLE}; DROP TABLE ${STAGED_TABLE}`);
}

/** Turns staged row ids into 1-based data row numbers within each file (rows of a file are contiguous). */
async function locate(duck: DuckDb, failing: readonly Record<string, unknown>[]): Promise<DataProblem[]> {
  const files = [...new Set(failing.map((r) => r.file as string))];
  const first = new Map<string, bigint>();
  for (const r of await duck.rows(`SELECT ${FILE_COLUMN} AS file, min(rowid) AS first FROM ${STAGED_TABLE} WHERE ${FILE_COLUMN} IN (${files.map(quoteString).join(", ")}) GROUP BY 1`)) {
    first.set(r.file as string, r.first as bigint);
  }
  return failing.map((r) => ({
    file: r.file as string,
    row: Number((r.row_id as bigint) - (first.get(r.file as string) ?? 0n)) + 1,
    column: r.column_name as string,
    message: r.value === null ? (r.message as string) : `${JSON.stringify(r.value)} ${r.message as string}`,
  }));
}
