import { mkdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { syncDir, syncFile } from "../offline/commit-log.js";
import { InvalidRequestError } from "../errors.js";
import type { DuckDb } from "../offline/duckdb.js";
import { withFileLock } from "../util/file-lock.js";
import { newPartId, ServingLogLayout } from "./serving-log-layout.js";
import { countSubjectSql, rewriteWithoutSql, subjectFilesSql } from "./serving-log-sql.js";

/**
 * Removes a data subject from the serving log: every file holding rows whose `subject_keys`
 * include all of `subject` (e.g. ["customer_id=42"]) is rewritten without them, under a
 * temporary name, fsynced, and renamed over the old file (a file left empty is deleted), so a
 * crash leaves the old file or the new one, never half of either. Leftovers of crashed writes
 * (staging files) are deleted too. Idempotent; erasures run one at a time (a lock file), as two
 * rewriting the same file at once would each put back what the other removed.
 *
 * With `servedUpTo` (µs, an erasure's boundary) only rows served at or before it go: later
 * requests for the subject are new data. Rows still buffered in a running server are written
 * after this returns: servingLogRemaining finds them, and erasing again removes them.
 */
export async function eraseFromServingLog(duck: DuckDb, offlineRoot: string, subject: readonly string[], servedUpTo?: number): Promise<{ files: number; rows: number }> {
  checkSubject(subject);
  const layout = new ServingLogLayout(offlineRoot);
  return withFileLock(join(layout.dir, "_erase.lock"), async () => {
    for (const file of await layout.abandonedStagingFiles()) await rm(file, { force: true });
    const files = await layout.partFiles();
    if (files.length === 0) return { files: 0, rows: 0 };
    const affected = await duck.rows(subjectFilesSql(files, subject, servedUpTo));
    await mkdir(layout.stagingDir, { recursive: true });
    let rows = 0;
    for (const { filename, hits, total } of affected) {
      const file = filename as string;
      rows += Number(hits);
      if (hits === total) await rm(file, { force: true });
      else {
        const tmp = layout.stagingFile(newPartId(), "parquet");
        try {
          await duck.run(rewriteWithoutSql(file, subject, tmp, servedUpTo));
          await syncFile(tmp);
          await rename(tmp, file);
        } finally {
          await rm(tmp, { force: true });
        }
      }
      await syncDir(dirname(file));
    }
    return { files: affected.length, rows };
  });
}

/**
 * How many logged rows (served at or before `servedUpTo`, when given) still hold the subject,
 * plus one per leftover of a crashed write (a staging file: it may hold any subject's rows
 * until an erasure deletes it).
 */
export async function servingLogRemaining(duck: DuckDb, offlineRoot: string, subject: readonly string[], servedUpTo?: number): Promise<number> {
  checkSubject(subject);
  const layout = new ServingLogLayout(offlineRoot);
  const files = await layout.partFiles();
  const [counted] = files.length === 0 ? [] : await duck.rows(countSubjectSql(files, subject, servedUpTo));
  return Number((counted?.n as bigint | undefined) ?? 0n) + (await layout.abandonedStagingFiles()).length;
}

/** An empty subject would match every row. */
function checkSubject(subject: readonly string[]): void {
  if (subject.length === 0 || subject.some((k) => !/^[^=]+=/.test(k))) throw new InvalidRequestError(`a serving log subject is one or more "join_key=value", got ${JSON.stringify(subject)}`);
}
