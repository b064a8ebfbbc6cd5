import { mkdir, rename, rm, unlink } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { quoteString, stringList } from "../util/sql.js";
import { publishCommit, readCommits, syncDir, syncFile, writeAtomically, type OfflineCommit } from "./commit-log.js";
import type { DuckDb } from "./duckdb.js";
import { committedFiles, dateOfPartPath, newIngestId, ViewVersionLayout } from "./offline-layout.js";
import { pendingMarker, sweepOrphans } from "./orphan-sweep.js";

export interface RewriteReport {
  /** Files rewritten (or deleted, when nothing of them remained). */
  readonly files: number;
  readonly rowsRemoved: number;
}

/** Rounds of scan + rewrite: another round only when an ingestion committed the rows meanwhile. */
const MAX_ROUNDS = 5;

/**
 * Physically removes the rows `dropSql` matches from a view version's offline files: each file
 * holding any is rewritten without them, the new files are staged and renamed in like an
 * ingestion's, one commit replaces the old files with them (readers see the old set or the new,
 * never both), then the old files are deleted. A crash before the commit leaves what a crashed
 * ingestion leaves (swept the same way); after it, replaced files that still exist are deleted by
 * the next rewrite. Idempotent: a second run finds nothing to remove.
 *
 * @example
 * await rewritePartitions(duck, new ViewVersionLayout(root, "orders", 1), `"customer_id" = 42`, "erase:e1");
 */
export async function rewritePartitions(duck: DuckDb, layout: ViewVersionLayout, dropSql: string, source: string): Promise<RewriteReport> {
  await sweepOrphans(layout);
  await deleteReplaced(layout, await readCommits(layout));
  let files = 0;
  let rowsRemoved = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const commits = await readCommits(layout);
    const visible = committedFiles(layout, commits);
    if (visible.length === 0) break;
    const matched = await duck.rows(
      `SELECT filename AS file, count(*) AS n FROM read_parquet(${stringList(visible)}, filename = true, union_by_name = true, hive_partitioning = false) WHERE ${dropSql} GROUP BY filename ORDER BY filename`,
    );
    if (matched.length === 0) break;
    await rewriteFiles(duck, layout, commits, matched.map((m) => m.file as string), dropSql, source);
    files += matched.length;
    rowsRemoved += matched.reduce((n, m) => n + Number(m.n as bigint), 0);
  }
  return { files, rowsRemoved };
}

async function rewriteFiles(duck: DuckDb, layout: ViewVersionLayout, commits: readonly OfflineCommit[], targets: readonly string[], dropSql: string, source: string): Promise<void> {
  const id = newIngestId();
  await writeAtomically(layout.pendingFile(id), JSON.stringify(pendingMarker(id)));
  const staging = layout.stagingDir(id);
  try {
    const written: { path: string; date: string; rows: number }[] = [];
    const removes = targets.map((file) => {
      const path = relative(layout.dir, file);
      return { path, date: dateOfPartPath(path) };
    });
    for (const [i, old] of removes.entries()) {
      const path = ViewVersionLayout.partPath(old.date, id, i);
      const staged = join(staging, path);
      await mkdir(dirname(staged), { recursive: true });
      // IS NOT TRUE: a row whose key is null is not the subject's and stays.
      await duck.run(`COPY (SELECT * FROM read_parquet(${quoteString(join(layout.dir, old.path))}, hive_partitioning = false) WHERE (${dropSql}) IS NOT TRUE) TO ${quoteString(staged)} (FORMAT parquet)`);
      const [meta] = await duck.rows(`SELECT num_rows FROM parquet_file_metadata(${quoteString(staged)})`);
      const rows = Number(meta?.num_rows);
      if (rows === 0) continue; // nothing of the file remains: it is only removed
      await syncFile(staged);
      written.push({ path, date: old.date, rows });
    }
    for (const f of written) {
      await mkdir(join(layout.dir, dirname(f.path)), { recursive: true });
      await rename(join(staging, f.path), join(layout.dir, f.path));
    }
    for (const dir of new Set(written.map((f) => dirname(join(layout.dir, f.path))))) await syncDir(dir);
    const draft = {
      id,
      committedAt: new Date().toISOString(),
      source,
      rows: written.reduce((n, f) => n + f.rows, 0),
      files: written,
      removes,
      minEventTimestamp: "",
      maxEventTimestamp: "",
      // Rows were only removed: no tie can appear that was not there.
      tieFree: commits.every((c) => c.tieFree),
    };
    const published = await publishCommit(layout, draft, commits, (_newer, d) => Promise.resolve(d), staging);
    await deleteReplaced(layout, [published]);
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(layout.pendingFile(id), { force: true });
  }
}

/** Deletes files that commits replaced, if they are still there (a rewrite killed after its commit). */
export async function deleteReplaced(layout: ViewVersionLayout, commits: readonly OfflineCommit[]): Promise<void> {
  const paths = commits.flatMap((c) => (c.removes ?? []).map((r) => join(layout.dir, r.path)));
  await Promise.all(paths.map((p) => unlink(p).catch((error: NodeJS.ErrnoException) => (error.code === "ENOENT" ? undefined : Promise.reject(error)))));
  for (const dir of new Set(paths.map((p) => dirname(p)))) await syncDir(dir).catch(() => undefined);
}
