import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { readCommits, writeAtomically } from "../offline/commit-log.js";
import type { DuckDb } from "../offline/duckdb.js";
import { commitDates, committedFiles, ViewVersionLayout } from "../offline/offline-layout.js";
import type { ViewVersionRecord } from "../registry/registry-records.js";
import { noProgress, type ProgressListener } from "../util/progress.js";
import { quoteString } from "../util/sql.js";
import { hopGroups } from "./tile-partials.js";
import { compileTiles } from "./tile-sql.js";

/**
 * Tiles live beside the event log, per hop and date (a hop divides a day, so a date's tiles
 * depend on that date's events only):
 *   <view>/v<N>/_tiles/h<hop seconds>/date=YYYY-MM-DD/tiles.parquet
 *   <view>/v<N>/_tiles/state.json   the last event-log commit the tiles include, and the transform
 */
const tilesDir = (layout: ViewVersionLayout): string => join(layout.dir, "_tiles");
const hopDir = (layout: ViewVersionLayout, hopSeconds: number): string => join(tilesDir(layout), `h${hopSeconds}`);

interface TileState {
  readonly seq: number;
  readonly transformHash: string;
}

export interface BackfillReport {
  readonly view: string;
  readonly version: number;
  /** Dates whose tiles were (re)built; 0 when the tiles were already current. */
  readonly dates: number;
  readonly upToCommit: number;
  readonly seconds: number;
}

async function readState(layout: ViewVersionLayout): Promise<TileState | undefined> {
  try {
    return JSON.parse(await readFile(join(tilesDir(layout), "state.json"), "utf8")) as TileState;
  } catch {
    return undefined;
  }
}

/**
 * Builds or refreshes an aggregation view's tiles from its event log, incrementally: only the
 * dates that commits after the last backfill touched are rebuilt (each from all of that date's
 * events, so a rebuild is idempotent). Each tile file is replaced by a rename; the state file is
 * written last, so a killed backfill is redone from where the state says.
 */
export async function backfillTiles(duck: DuckDb, offlineRoot: string, record: ViewVersionRecord, onProgress: ProgressListener = noProgress): Promise<BackfillReport> {
  const started = performance.now();
  const aggregation = record.spec.aggregation;
  if (aggregation === undefined) throw new TypeError(`${record.name} is not an aggregation view`);
  const layout = new ViewVersionLayout(offlineRoot, record.name, record.version);
  const commits = await readCommits(layout);
  const last = commits.at(-1)?.seq ?? 0;
  const state = await readState(layout);
  const fresh = state?.transformHash === aggregation.transformHash;
  const report = (dates: number): BackfillReport => ({ view: record.name, version: record.version, dates, upToCommit: last, seconds: (performance.now() - started) / 1000 });
  if (fresh && state.seq === last) return report(0);
  if (!fresh) await rm(tilesDir(layout), { recursive: true, force: true });
  const since = fresh ? state.seq : 0;
  const dates = [...new Set(commits.filter((c) => c.seq > since).flatMap(commitDates))].sort();
  const types = new Map(aggregation.events.map((e) => [e.name, e.type]));
  const groups = hopGroups(aggregation.aggregates);
  let done = 0;
  for (const date of dates) {
    for (const group of groups) {
      const dir = join(hopDir(layout, group.hopSeconds), `date=${date}`);
      const files = committedFiles(layout, commits, (d) => d === date);
      if (files.length === 0) {
        // Every event of the date was erased: no tiles either.
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      await mkdir(dir, { recursive: true });
      const tmp = join(dir, `.tiles-${process.pid}-${Date.now()}.parquet`);
      await duck.run(`COPY (${compileTiles(record.spec.joinKeys, group, files, types)}) TO ${quoteString(tmp)} (FORMAT parquet)`);
      await rename(tmp, join(dir, "tiles.parquet"));
    }
    onProgress({ phase: "building tiles", percent: (++done / dates.length) * 100 });
  }
  await writeAtomically(join(tilesDir(layout), "state.json"), JSON.stringify({ seq: last, transformHash: aggregation.transformHash } satisfies TileState));
  return report(dates.length);
}

/** The tile files of one hop for dates in [from, to] (YYYY-MM-DD). */
export async function tileFiles(layout: ViewVersionLayout, hopSeconds: number, from: string, to: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(hopDir(layout, hopSeconds));
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith("date=") && n.slice(5) >= from && n.slice(5) <= to)
    .sort()
    .map((n) => join(hopDir(layout, hopSeconds), n, "tiles.parquet"));
}
