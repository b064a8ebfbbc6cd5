import { mkdir, readdir, rename, rm, unlink } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { PARTITION_COLUMN } from "../definitions/specs.js";
import { noProgress } from "../util/progress.js";
import { quoteString } from "../util/sql.js";
import { publishCommit, readCommits, syncDir, syncFile, writeAtomically, type CommitDraft, type OfflineCommit } from "./commit-log.js";
import type { DuckDb } from "./duckdb.js";
import type { IngestRequest } from "./ingest.js";
import { committedFiles, dateOfPartPath, newIngestId, ViewVersionLayout } from "./offline-layout.js";
import { pendingMarker, sweepOrphans } from "./orphan-sweep.js";
import { hasTiesWith } from "./tie-check.js";

/** The validated, normalized rows of the ingestion in progress. */
export const ROWS_TABLE = "__strata_rows";

/** Every file under a folder (absolute paths). */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/**
 * Writes the rows as date partitions and commits them: pending marker → staged files (fsynced)
 * → renamed into `date=` folders → commit file linked into `_commits/`. Until the link,
 * readers see nothing of it; after a crash, the next ingestion's sweep removes the leftovers.
 */
export async function publishIngest(duck: DuckDb, request: IngestRequest, stats: Pick<CommitDraft, "rows" | "minEventTimestamp" | "maxEventTimestamp" | "tieFree">): Promise<OfflineCommit> {
  const { record, offlineRoot } = request;
  const progress = request.onProgress ?? noProgress;
  const layout = new ViewVersionLayout(offlineRoot, record.name, record.version);
  const id = newIngestId();
  await sweepOrphans(layout);
  await writeAtomically(layout.pendingFile(id), JSON.stringify(pendingMarker(id)));
  const staging = layout.stagingDir(id);
  const published: string[] = [];
  try {
    progress({ phase: "writing" });
    await mkdir(staging, { recursive: true });
    await duck.run(
      `COPY (SELECT *, CAST(event_timestamp AS DATE) AS ${PARTITION_COLUMN} FROM ${ROWS_TABLE}) TO ${quoteString(staging)} ` +
        `(FORMAT parquet, PARTITION_BY (${PARTITION_COLUMN}), FILENAME_PATTERN ${quoteString(`part-${id}-{i}`)})`,
      (percent) => progress({ phase: "writing", percent }),
    );
    request.checkpoint?.("staged");
    const staged = await filesUnder(staging);
    const counts = new Map((await duck.rows(`SELECT file_name, num_rows FROM parquet_file_metadata([${staged.map(quoteString).join(", ")}])`)).map((r) => [r.file_name as string, Number(r.num_rows as bigint)]));
    const files: CommitDraft["files"][number][] = [];
    for (const file of staged) {
      const path = relative(staging, file);
      const target = join(layout.dir, path);
      await syncFile(file);
      await mkdir(dirname(target), { recursive: true });
      await rename(file, target);
      published.push(target);
      files.push({ path, date: dateOfPartPath(path), rows: counts.get(file) ?? 0 });
    }
    for (const dir of new Set(published.map((p) => dirname(p)))) await syncDir(dir);
    request.checkpoint?.("renamed");
    // Tie-free must hold against every earlier commit, including ones that land while we publish.
    // Only files on the dates this ingestion covers can hold a tie with it.
    const dates = new Set(files.map((f) => f.date));
    const checkTies = async (commits: readonly OfflineCommit[], draft: CommitDraft): Promise<CommitDraft> =>
      draft.tieFree && (await hasTiesWith(duck, ROWS_TABLE, record.spec, committedFiles(layout, commits, (date) => dates.has(date)))) ? { ...draft, tieFree: false } : draft;
    const validated = await readCommits(layout);
    const draft = await checkTies(validated, { id, committedAt: new Date().toISOString(), source: request.sourceLabel ?? request.path, files, ...stats });
    return await publishCommit(layout, draft, validated, checkTies, staging);
  } catch (error) {
    // Files of a commit that did get linked (a failure after the link) are data: keep them.
    if (!(await readCommits(layout)).some((c) => c.id === id)) await Promise.all(published.map((p) => unlink(p).catch(() => undefined)));
    throw error;
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(layout.pendingFile(id), { force: true });
  }
}

