import { hostname } from "node:os";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { readCommits } from "./commit-log.js";
import { ingestIdOf, type ViewVersionLayout } from "./offline-layout.js";
import { processAlive } from "../util/process-alive.js";

export interface PendingMarker {
  readonly id: string;
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
}

export function pendingMarker(id: string): PendingMarker {
  return { id, pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
}

function alive(marker: Pick<PendingMarker, "pid" | "host">): boolean {
  return marker.host !== hostname() || processAlive(marker.pid); // another machine's ingestion: not ours to judge
}

async function list(dir: string): Promise<string[]> {
  return readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
}

/**
 * Removes what crashed ingestions left behind: their staged files, and data files renamed
 * into place whose commit was never published. Only ingestions whose pending marker names a
 * dead process are touched: the marker is written before any file and removed last, so a
 * crash always leaves one, while running or finished ingestions are never swept. Returns the
 * ingest ids cleaned up.
 */
export async function sweepOrphans(layout: ViewVersionLayout): Promise<string[]> {
  const dead: string[] = [];
  // A marker a writer was killed writing (before its rename): nothing else of that ingestion exists yet.
  for (const name of await list(layout.pendingDir)) {
    const pid = /\.json\.tmp-(\d+)-[0-9a-f]+$/.exec(name)?.[1];
    if (pid !== undefined && !alive({ pid: Number(pid), host: hostname() })) await rm(join(layout.pendingDir, name), { force: true });
  }
  for (const name of (await list(layout.pendingDir)).filter((n) => n.endsWith(".json"))) {
    const marker = await readFile(join(layout.pendingDir, name), "utf8")
      .then((text) => JSON.parse(text) as PendingMarker)
      .catch(() => undefined); // gone or unreadable: not ours to judge
    if (marker !== undefined && !alive(marker)) dead.push(marker.id);
  }
  if (dead.length === 0) return [];
  // Read after the markers: a dead ingestion's commit state can no longer change.
  const committed = new Set((await readCommits(layout)).map((c) => c.id));
  const orphans = new Set(dead.filter((id) => !committed.has(id)));
  for (const partition of (await list(layout.dir)).filter((n) => n.startsWith("date="))) {
    for (const file of await list(join(layout.dir, partition))) {
      const id = ingestIdOf(file);
      if (id !== undefined && orphans.has(id)) await rm(join(layout.dir, partition, file), { force: true });
    }
  }
  for (const id of dead) {
    await rm(layout.stagingDir(id), { recursive: true, force: true });
    await rm(layout.pendingFile(id), { force: true });
  }
  return dead;
}
