import { hostname } from "node:os";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { OfflineCommit } from "./commit-log.js";
import { ingestIdOf, type ViewVersionLayout } from "./offline-layout.js";

export interface PendingMarker {
  readonly id: string;
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
}

export function pendingMarker(id: string): PendingMarker {
  return { id, pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
}

function alive(marker: PendingMarker): boolean {
  if (marker.host !== hostname()) return true; // another machine's ingestion: not ours to judge
  try {
    process.kill(marker.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function list(dir: string): Promise<string[]> {
  return readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
}

/**
 * Removes what crashed ingestions left: staged files, and data files renamed into place whose
 * ingestion never committed. Files of ingestions still running (live pending marker) stay.
 * Returns the ingest ids cleaned up.
 */
export async function sweepOrphans(layout: ViewVersionLayout, commits: readonly OfflineCommit[]): Promise<string[]> {
  const committed = new Set(commits.map((c) => c.id));
  const running = new Set<string>();
  const dead: string[] = [];
  for (const name of await list(layout.pendingDir)) {
    const marker = JSON.parse(await readFile(join(layout.pendingDir, name), "utf8")) as PendingMarker;
    if (alive(marker)) running.add(marker.id);
    else dead.push(marker.id);
  }
  const keep = (id: string | undefined): boolean => id === undefined || committed.has(id) || running.has(id);
  const removed = new Set<string>();
  for (const id of await list(join(layout.dir, "_staging"))) {
    if (!running.has(id)) {
      await rm(layout.stagingDir(id), { recursive: true, force: true });
      removed.add(id);
    }
  }
  for (const partition of (await list(layout.dir)).filter((n) => n.startsWith("date="))) {
    for (const file of await list(join(layout.dir, partition))) {
      const id = ingestIdOf(file);
      if (!keep(id)) {
        await rm(join(layout.dir, partition, file), { force: true });
        removed.add(id!);
      }
    }
  }
  for (const id of dead) {
    await rm(layout.pendingFile(id), { force: true });
    removed.add(id);
  }
  return [...removed];
}
