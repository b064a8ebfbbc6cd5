import { mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { readCommits, writeAtomically } from "../offline/commit-log.js";
import type { DuckDb } from "../offline/duckdb.js";
import { commitDates, committedDates, committedFiles, partitionDate, partitionStart, ViewVersionLayout } from "../offline/offline-layout.js";
import type { ViewVersionRecord } from "../registry/registry-records.js";
import { noProgress, type ProgressListener } from "../util/progress.js";
import { BLOCK_FILE, withBlockFiles, writeBlockFile } from "./block-files.js";
import { compileDayBlock } from "./day-block-sql.js";
import { DAY_US, slideLengths, windowShapes } from "./day-blocks.js";
import { columnPartials } from "./tile-partials.js";

/**
 * Day blocks (see day-blocks.ts) live beside the event log, one file per date:
 *   <view>/v<N>/_tiles/days/date=YYYY-MM-DD/blocks.duckdb   (see block-files.ts)
 *   <view>/v<N>/_tiles/state.json   the last event-log commit the blocks include, the transform
 *                                   and the storage format
 * A date's blocks depend on its own events and, through the slides, on the days before it: a
 * date with events also has blocks on the days after it that its slides reach.
 */
const tilesDir = (layout: ViewVersionLayout): string => join(layout.dir, "_tiles");
const daysDir = (layout: ViewVersionLayout): string => join(tilesDir(layout), "days");
/** Bumped when the stored layout changes: older tiles are rebuilt. */
const FORMAT = 4;

interface TileState {
  readonly seq: number;
  readonly transformHash: string;
  readonly format: number;
}

export interface BackfillReport {
  readonly view: string;
  readonly version: number;
  /** Dates whose blocks were (re)built; 0 when they were already current. */
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

/** YYYY-MM-DD plus a number of days. */
const addDays = (date: string, days: number): string => partitionDate(partitionStart(date) + days * DAY_US);

/**
 * Builds or refreshes an aggregation view's day blocks from its event log, incrementally: only
 * the dates that commits after the last backfill touched, and the days their slides reach, are
 * rebuilt (in date order, each from that date's events and the blocks before it, so a rebuild is
 * idempotent). Each file is replaced by a rename; the state file is written last, so a killed
 * backfill is redone from where the state says.
 */
export async function backfillTiles(duck: DuckDb, offlineRoot: string, record: ViewVersionRecord, onProgress: ProgressListener = noProgress): Promise<BackfillReport> {
  const started = performance.now();
  const aggregation = record.spec.aggregation;
  if (aggregation === undefined) throw new TypeError(`${record.name} is not an aggregation view`);
  const layout = new ViewVersionLayout(offlineRoot, record.name, record.version);
  const commits = await readCommits(layout);
  const last = commits.at(-1)?.seq ?? 0;
  const state = await readState(layout);
  const fresh = state?.transformHash === aggregation.transformHash && state.format === FORMAT;
  const report = (dates: number): BackfillReport => ({ view: record.name, version: record.version, dates, upToCommit: last, seconds: (performance.now() - started) / 1000 });
  if (fresh && state.seq === last) return report(0);
  if (!fresh) await rm(tilesDir(layout), { recursive: true, force: true });
  const since = fresh ? state.seq : 0;
  const slides = slideLengths(windowShapes(aggregation.aggregates));
  const reach = Math.max(0, ...slides);
  // A date and the days after it that its slides reach.
  const following = (date: string): string[] => Array.from({ length: Math.max(1, reach) }, (_, k) => addDays(date, k));
  const blockDates = new Set([...committedDates(commits)].flatMap(following));
  const dates = [...new Set(commits.filter((c) => c.seq > since).flatMap(commitDates).flatMap(following))].sort();
  const columnTypes = new Map(aggregation.events.map((e) => [e.name, e.type]));
  const columns = columnPartials(aggregation.aggregates);
  let done = 0;
  for (const date of dates) {
    const dir = join(daysDir(layout), `date=${date}`);
    if (!blockDates.has(date)) {
      // Every event the date's blocks came from was erased.
      await rm(dir, { recursive: true, force: true });
      continue;
    }
    // Earlier dates are current: they were rebuilt before this one, or did not need to be.
    const earlier = reach > 1 ? await dayBlockFiles(layout, addDays(date, 1 - reach), addDays(date, -1)) : [];
    const eventFiles = committedFiles(layout, commits, (d) => d === date);
    await mkdir(dir, { recursive: true });
    await withBlockFiles(duck, earlier, (earlierBlocks) =>
      writeBlockFile(duck, dir, compileDayBlock({ joinKeys: record.spec.joinKeys, columns, columnTypes, dayStart: partitionStart(date), eventFiles, earlierBlocks, slides })),
    );
    onProgress({ phase: "building tiles", percent: (++done / dates.length) * 100 });
  }
  await writeAtomically(join(tilesDir(layout), "state.json"), JSON.stringify({ seq: last, transformHash: aggregation.transformHash, format: FORMAT } satisfies TileState));
  return report(dates.length);
}

/** The block files for dates in [from, to] (YYYY-MM-DD); a date folder whose file a killed backfill never wrote has none. */
export async function dayBlockFiles(layout: ViewVersionLayout, from: string, to: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(daysDir(layout));
  } catch {
    return [];
  }
  const files = names
    .filter((n) => n.startsWith("date=") && n.slice(5) >= from && n.slice(5) <= to)
    .sort()
    .map((n) => join(daysDir(layout), n, BLOCK_FILE));
  const present = await Promise.all(files.map((f) => stat(f).then(() => true, () => false)));
  return files.filter((_, i) => present[i]);
}
