import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { readCommits, writeAtomically } from "../offline/commit-log.js";
import type { DuckDb } from "../offline/duckdb.js";
import { commitDates, committedDates, committedFiles, partitionDate, partitionStart, ViewVersionLayout } from "../offline/offline-layout.js";
import type { ViewVersionRecord } from "../registry/registry-records.js";
import { noProgress, type ProgressListener } from "../util/progress.js";
import { BLOCK_FILE, withBlockFiles, writeBlockFile } from "./block-files.js";
import { compileDayBlock } from "./day-block-sql.js";
import { block, blockReach, DAY_US, earlierOffsets, slideLengths, windowShapes } from "./day-blocks.js";
import { dateDir, dayBlockFiles, monthDir, monthOf, monthPackFiles, tilesDir } from "./tile-files.js";
import { columnPartials } from "./tile-partials.js";

/**
 * A date's blocks depend on its own events and, through slides and copies, on the days before it
 * (as far back as blockReach): a date with events also has blocks on the days after it that reach
 * it. `_tiles/state.json` (see tile-files.ts) holds the last event-log commit the blocks include,
 * the transform and the storage format.
 */
/** Bumped when the stored layout changes: older tiles are rebuilt. */
const FORMAT = 6;

interface TileState {
  readonly seq: number;
  readonly transformHash: string;
  readonly format: number;
}

export interface BackfillReport {
  readonly view: string;
  readonly version: number;
  /** Dates whose blocks were (re)built, or removed; 0 when they were already current. */
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
 * the dates that commits after the last backfill touched, and the days whose blocks read them, are
 * rebuilt (in date order, each from that date's events and the blocks before it, so a rebuild is
 * idempotent); then the packs of their months are rewritten. Each file is replaced by a rename;
 * the state file is written last, so a killed backfill is redone from where the state says.
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
  const shapes = windowShapes(aggregation.aggregates);
  const [slides, offsets, reach] = [slideLengths(shapes), earlierOffsets(shapes), blockReach(shapes)];
  // A date and the days after it whose blocks read it.
  const following = (date: string): string[] => Array.from({ length: reach + 1 }, (_, k) => addDays(date, k));
  const blockDates = new Set([...committedDates(commits)].flatMap(following));
  const dates = [...new Set(commits.filter((c) => c.seq > since).flatMap(commitDates).flatMap(following))].sort();
  const columnTypes = new Map(aggregation.events.map((e) => [e.name, e.type]));
  const columns = columnPartials(aggregation.aggregates);
  const months = [...new Set(dates.map(monthOf))];
  let done = 0;
  const step = (phase: string): void => onProgress({ phase, percent: (++done / (dates.length + months.length)) * 100 });
  for (const date of dates) {
    const dir = dateDir(layout, date);
    if (!blockDates.has(date)) {
      // Every event the date's blocks came from was erased.
      await rm(dir, { recursive: true, force: true });
      step("building tiles");
      continue;
    }
    // Earlier dates are current: they were rebuilt before this one, or did not need to be.
    const earlier = reach > 0 ? await dayBlockFiles(layout, addDays(date, -reach), addDays(date, -1)) : [];
    const eventFiles = committedFiles(layout, commits, (d) => d === date);
    await mkdir(dir, { recursive: true });
    await withBlockFiles(duck, earlier, (earlierBlocks) =>
      writeBlockFile(duck, dir, compileDayBlock({ joinKeys: record.spec.joinKeys, columns, columnTypes, dayStart: partitionStart(date), eventFiles, earlierBlocks, slides, offsets })),
    );
    step("building tiles");
  }
  for (const month of months) {
    await packMonth(duck, layout, month, dates.filter((d) => monthOf(d) === month));
    step("packing tiles");
  }
  await writeAtomically(join(tilesDir(layout), "state.json"), JSON.stringify({ seq: last, transformHash: aggregation.transformHash, format: FORMAT } satisfies TileState));
  return report(dates.length);
}

/**
 * Rewrites a month's pack from its rows of the dates not rebuilt, read from the old pack in
 * parallel, and the rebuilt dates' files, which DuckDB reads one at a time (on the aggregation
 * benchmark a whole month took 23 s, one date into a full month 9 s). Removes it when the month
 * has no date left.
 */
async function packMonth(duck: DuckDb, layout: ViewVersionLayout, month: string, rebuilt: readonly string[]): Promise<void> {
  const dir = monthDir(layout, month);
  const dates = await dayBlockFiles(layout, `${month}-01`, `${month}-31`);
  if (dates.length === 0) return rm(dir, { recursive: true, force: true });
  const fresh = new Set(rebuilt.map((date) => join(dateDir(layout, date), BLOCK_FILE)));
  const old = await monthPackFiles(layout, `${month}-01`, `${month}-01`);
  await mkdir(dir, { recursive: true });
  await withBlockFiles(duck, old, (previous) =>
    withBlockFiles(duck, old.length === 0 ? dates : dates.filter((f) => fresh.has(f)), (rebuiltBlocks) => {
      const kept = previous === null ? [] : [`SELECT * FROM ${previous} WHERE ${block.day} NOT IN (${rebuilt.map(partitionStart).join(", ")})`];
      return writeBlockFile(duck, dir, [...kept, ...(rebuiltBlocks === null ? [] : [`SELECT * FROM ${rebuiltBlocks}`])].join(" UNION ALL BY NAME "));
    }),
  );
}
