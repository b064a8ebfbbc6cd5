import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { PARTITION_COLUMN } from "../definitions/specs.js";
import type { OfflineCommit } from "./commit-log.js";

/**
 * The store-owned offline layout (DESIGN.md):
 *   <offline>/<view>/v<version>/date=YYYY-MM-DD/part-<ingest id>-<n>.parquet
 * plus bookkeeping in underscore folders, which Hive-style readers (Spark, Trino, Athena) skip:
 *   _commits/<seq>.json   one per committed ingestion: the files it made visible
 *   _pending/<id>.json    an ingestion in progress (pid), so a sweep can tell crashed from running
 *   _staging/<id>/        files being written, invisible until renamed into place and committed
 */
export class ViewVersionLayout {
  readonly dir: string;

  constructor(offlineRoot: string, view: string, version: number) {
    this.dir = join(offlineRoot, view, `v${version}`);
  }

  get commitsDir(): string {
    return join(this.dir, "_commits");
  }

  get pendingDir(): string {
    return join(this.dir, "_pending");
  }

  stagingDir(ingestId: string): string {
    return join(this.dir, "_staging", ingestId);
  }

  commitFile(seq: number): string {
    return join(this.commitsDir, `${String(seq).padStart(10, "0")}.json`);
  }

  pendingFile(ingestId: string): string {
    return join(this.pendingDir, `${ingestId}.json`);
  }

  /** A data file path relative to `dir`, as commits record it. */
  static partPath(date: string, ingestId: string, index: number): string {
    return join(`date=${date}`, `part-${ingestId}-${index}.parquet`);
  }
}

/** A new id for an ingestion or a rewrite: time-ordered, unique across processes; data files carry it (`part-<id>-<n>.parquet`). */
export function newIngestId(): string {
  return `${Date.now().toString(36)}${randomBytes(5).toString("hex")}`;
}

/** The date of a data file path relative to a view version's folder (`date=YYYY-MM-DD/part-...`). */
export function dateOfPartPath(path: string): string {
  return path.slice(`${PARTITION_COLUMN}=`.length, `${PARTITION_COLUMN}=`.length + 10);
}

/** The ingest id a data file name carries (`part-<id>-<n>.parquet`), if any. */
export function ingestIdOf(fileName: string): string | undefined {
  return /^part-([0-9a-z]+)-\d+\.parquet$/.exec(fileName)?.[1];
}

/** The date partition (YYYY-MM-DD, UTC) of a time in epoch microseconds. */
export function partitionDate(micros: number | bigint): string {
  return new Date(Math.floor(Number(micros) / 1000)).toISOString().slice(0, 10);
}

/** The start (epoch microseconds) of a date partition: the inverse of `partitionDate`. */
export function partitionStart(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) * 1000;
}

/** The file entries the commits made visible and no later commit replaced. */
function visibleFiles(commits: readonly OfflineCommit[]): OfflineCommit["files"] {
  const replaced = new Set(commits.flatMap((c) => (c.removes ?? []).map((r) => r.path)));
  return commits.flatMap((c) => c.files.filter((f) => !replaced.has(f.path)));
}

/** The data files the commits made visible and no later commit replaced (absolute paths), optionally only those of the dates `onDate` accepts. */
export function committedFiles(layout: ViewVersionLayout, commits: readonly OfflineCommit[], onDate: (date: string) => boolean = () => true): string[] {
  return visibleFiles(commits)
    .filter((f) => onDate(f.date))
    .map((f) => join(layout.dir, f.path));
}

/** The dates that have committed data files. */
export function committedDates(commits: readonly OfflineCommit[]): Set<string> {
  return new Set(visibleFiles(commits).map((f) => f.date));
}

/** The dates whose files a commit added or replaced. */
export function commitDates(commit: OfflineCommit): string[] {
  return [...commit.files, ...(commit.removes ?? [])].map((f) => f.date);
}

/** Partition dates from `from` to `to`, inclusive (YYYY-MM-DD compare as text). */
export const datesBetween =
  (from: string, to: string) =>
  (date: string): boolean =>
    date >= from && date <= to;
