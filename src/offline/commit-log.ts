import { randomBytes } from "node:crypto";
import { link, mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
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
  /**
   * Files of earlier commits this one replaces (a rewrite that removed rows: an erasure). They
   * stop being visible when it commits, and are deleted after.
   */
  readonly removes?: readonly { readonly path: string; readonly date: string }[];
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
 * Writes a small file so readers never see it half-written: a temporary name (carrying the
 * writer's pid, so a sweep can tell one a killed writer left), then a rename.
 */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`;
  await writeDurably(tmp, text);
  await rename(tmp, path);
}

/**
 * Publishes a commit as `_commits/<seq>.json`. The draft was validated against `validated`
 * (the commits that existed then); before each attempt, commits that appeared since are
 * passed to `revalidate`, and the draft is hard-linked in at one past the last of them. The
 * link fails if a concurrent writer took that seq, and we go round again. So every commit was
 * validated against every commit before it. The link is the commit point: readers see all of
 * the commit or none of it. The draft file is written under `draftDir` (the ingestion's
 * staging folder, which the orphan sweep removes if we crash).
 */
export async function publishCommit(
  layout: ViewVersionLayout,
  draft: CommitDraft,
  validated: readonly OfflineCommit[],
  revalidate: (newer: readonly OfflineCommit[], draft: CommitDraft) => Promise<CommitDraft>,
  draftDir: string,
): Promise<OfflineCommit> {
  let current = draft;
  let known = validated;
  await mkdir(layout.commitsDir, { recursive: true });
  for (;;) {
    const all = await readCommits(layout);
    if (all.length > known.length) current = await revalidate(all.slice(known.length), current);
    known = all;
    const seq = (all.at(-1)?.seq ?? 0) + 1;
    const commit: OfflineCommit = { seq, ...current };
    const tmp = join(draftDir, `commit-${randomBytes(6).toString("hex")}.json`);
    await writeDurably(tmp, `${JSON.stringify(commit, null, 2)}\n`);
    try {
      await link(tmp, layout.commitFile(seq));
      await syncDir(layout.commitsDir);
      return commit;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw new StorageError(`cannot publish commit ${seq} in ${layout.commitsDir}`, error);
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }
}
