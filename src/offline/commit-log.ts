import { randomBytes } from "node:crypto";
import { link, mkdir, open, readdir, readFile, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { StorageError } from "../errors.js";
import type { ViewVersionLayout } from "./offline-layout.js";

/** One committed ingestion: the files it made visible and what is known of their rows. */
export interface OfflineCommit {
  readonly seq: number;
  readonly id: string;
  readonly committedAt: string;
  readonly source: string;
  readonly rows: number;
  readonly files: readonly { readonly path: string; readonly date: string; readonly rows: number }[];
  /** Event-time range (ISO, microseconds) of the rows. */
  readonly minEventTimestamp: string;
  readonly maxEventTimestamp: string;
  /**
   * True when no two rows of this commit, nor a row of it and a row of an earlier commit,
   * share join keys and event_timestamp. While every commit is tie-free, point-in-time joins
   * need no created_timestamp tie-break (a faster plan).
   */
  readonly tieFree: boolean;
}

export type CommitDraft = Omit<OfflineCommit, "seq">;

/** All commits of a view version, in commit order. Missing folder: none yet. */
export async function readCommits(layout: ViewVersionLayout): Promise<OfflineCommit[]> {
  let names: string[];
  try {
    names = (await readdir(layout.commitsDir)).filter((n) => /^\d+\.json$/.test(n)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return Promise.all(names.map(async (n) => JSON.parse(await readFile(`${layout.commitsDir}/${n}`, "utf8")) as OfflineCommit));
}

export async function writeDurably(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const handle = await open(path, "w");
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flushes a file (or, opened read-only, a directory's entries) to disk. */
export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export const syncDir = syncFile;

/**
 * Publishes a commit as `_commits/<seq>.json`, seq = one past the last commit seen. The file
 * is written in full elsewhere and hard-linked into place, which fails if `seq` was taken by a
 * concurrent writer; then `beforeRetry` (re-validation against the newer commits) runs and we
 * try the next seq. The link is the commit point: readers see all of it or none of it.
 */
export async function publishCommit(
  layout: ViewVersionLayout,
  draft: CommitDraft,
  beforeRetry: (newer: readonly OfflineCommit[], draft: CommitDraft) => Promise<CommitDraft>,
): Promise<OfflineCommit> {
  let current = draft;
  let known = await readCommits(layout);
  for (;;) {
    const seq = (known.at(-1)?.seq ?? 0) + 1;
    const commit: OfflineCommit = { seq, ...current };
    const tmp = `${layout.commitsDir}/.tmp-${randomBytes(6).toString("hex")}`;
    await writeDurably(tmp, `${JSON.stringify(commit, null, 2)}\n`);
    try {
      await link(tmp, layout.commitFile(seq));
      await syncDir(layout.commitsDir);
      return commit;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw new StorageError(`cannot publish commit ${seq} in ${layout.commitsDir}`, error);
      const all = await readCommits(layout);
      current = await beforeRetry(all.slice(known.length), current);
      known = all;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }
}
