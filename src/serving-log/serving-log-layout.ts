import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { processAlive } from "../util/process-alive.js";

/**
 * Where the serving log lives in the offline store:
 *   <offline>/_serving_log/date=YYYY-MM-DD/part-<id>.parquet   (UTC date of served_at)
 *   <offline>/_serving_log/_staging/<pid>-<id>.<ext>           files being written, then renamed
 * The leading underscore keeps it apart from views, and Hive-style readers skip `_staging`.
 */
export class ServingLogLayout {
  readonly dir: string;

  constructor(offlineRoot: string) {
    this.dir = join(offlineRoot, "_serving_log");
  }

  get stagingDir(): string {
    return join(this.dir, "_staging");
  }

  partitionDir(date: string): string {
    return join(this.dir, `date=${date}`);
  }

  partFile(date: string, id: string): string {
    return join(this.partitionDir(date), `part-${id}.parquet`);
  }

  /** A staging file of this process: its pid in the name tells a sweep whether its writer is gone. */
  stagingFile(id: string, ext: "tsv" | "parquet"): string {
    return join(this.stagingDir, `${process.pid}-${id}.${ext}`);
  }

  /** The part files of the given dates (every date when omitted), sorted. */
  async partFiles(dates?: readonly string[]): Promise<string[]> {
    const partitions = dates === undefined ? (await list(this.dir)).filter((n) => n.startsWith("date=")).map((n) => n.slice(5)) : [...new Set(dates)];
    const files: string[] = [];
    for (const date of partitions.sort()) {
      for (const name of await list(this.partitionDir(date))) if (/^part-[0-9a-z-]+\.parquet$/.test(name)) files.push(join(this.partitionDir(date), name));
    }
    return files;
  }

  /** Staging files whose writing process has exited (a crash mid-write left them). */
  async abandonedStagingFiles(): Promise<string[]> {
    return (await list(this.stagingDir)).filter((name) => !processAlive(Number(/^(\d+)-/.exec(name)?.[1]))).map((name) => join(this.stagingDir, name));
  }
}

/** A new file id: time-ordered, unique across processes. */
export function newPartId(): string {
  return `${Date.now().toString(36)}-${randomBytes(6).toString("hex")}`;
}

const DAY_MS = 86_400_000;
let cachedDay = NaN;
let cachedDate = "";

/** The UTC date (YYYY-MM-DD) of a time in epoch milliseconds (the last day's text is kept: called once per logged response). */
export function logDate(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay) {
    cachedDate = new Date(day * DAY_MS).toISOString().slice(0, 10);
    cachedDay = day;
  }
  return cachedDate;
}

/** The date partitions that may hold a request made at `ms`: its date and, for clocks near midnight, the days either side. */
export function datesAround(ms: number): string[] {
  return [ms - DAY_MS, ms, ms + DAY_MS].map(logDate);
}

async function list(dir: string): Promise<string[]> {
  return readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
}
