import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { StorageError } from "../errors.js";
import { readCommits, writeAtomically, type OfflineCommit } from "../offline/commit-log.js";
import type { DuckDb } from "../offline/duckdb.js";
import { commitDates, committedDates, committedFiles, partitionDate, partitionStart, ViewVersionLayout } from "../offline/offline-layout.js";
import type { ViewVersionRecord } from "../registry/registry-records.js";
import { withFileLock } from "../util/file-lock.js";
import { noProgress, type ProgressListener } from "../util/progress.js";
import { BLOCK_FILE, scratchName, withBlocks, writeBlockFile } from "./block-files.js";
import { compileDayBlock } from "./day-block-sql.js";
import { block, blockReach, DAY_US, earlierOffsets, slideLengths, windowShapes } from "./day-blocks.js";
import { monthDir, monthOf, monthPackFiles, packsPresent, removeTemporaries, tilesDir, tilesLock } from "./tile-files.js";
import { columnPartials } from "./tile-partials.js";

/**
 * A date's blocks depend on its own events and, through slides and copies, on the days before it
 * (as far back as blockReach): a date with events also has blocks on the days after it that reach
 * it. `_tiles/state.json` (see tile-files.ts) holds the last event-log commit the blocks include,
 * the transform and the storage format.
 */
/** Bumped when the stored layout changes: older tiles are rebuilt. */
const FORMAT = 7;
/** How long a backfill waits for another one of the same view version (a first backfill of a large log takes minutes). */
const LOCK_WAIT_MS = 3_600_000;

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
 * idempotent) into a scratch folder; then the packs of their months are rewritten, each replaced
 * by a rename. The state file is written last, so a killed backfill is redone from where the state says.
 */
export async function backfillTiles(duck: DuckDb, offlineRoot: string, record: ViewVersionRecord, onProgress: ProgressListener = noProgress): Promise<BackfillReport> {
  if (record.spec.aggregation === undefined) throw new TypeError(`${record.name} is not an aggregation view`);
  const layout = new ViewVersionLayout(offlineRoot, record.name, record.version);
  // One backfill of a view version at a time (training sets backfill first, and may run side by
  // side): two could otherwise rename packs of different commits over each other, and the state
  // file could claim the newer one.
  return withFileLock(tilesLock(layout), () => backfillHoldingLock(duck, layout, record, onProgress), LOCK_WAIT_MS);
}

async function backfillHoldingLock(duck: DuckDb, layout: ViewVersionLayout, record: ViewVersionRecord, onProgress: ProgressListener): Promise<BackfillReport> {
  const started = performance.now();
  const aggregation = record.spec.aggregation!;
  // A killed backfill's scratch folder and temporary files: no other backfill runs now.
  await removeTemporaries(layout);
  const commits = await readCommits(layout);
  const last = commits.at(-1)?.seq ?? 0;
  const shapes = windowShapes(aggregation.aggregates);
  const [slides, offsets, reach] = [slideLengths(shapes), earlierOffsets(shapes), blockReach(shapes)];
  // A date and the days after it whose blocks read it.
  const following = (date: string): string[] => Array.from({ length: reach + 1 }, (_, k) => addDays(date, k));
  /** The dates that have blocks once these commits are in. */
  const blockDatesOf = (upTo: readonly OfflineCommit[]): Set<string> => new Set([...committedDates(upTo)].flatMap(following));
  const blockDates = blockDatesOf(commits);
  const state = await readState(layout);
  // A pack lost since the last backfill (deleted by hand, a restored backup), or tiles of commits
  // the event log no longer has (an older log restored), mean a full rebuild.
  const fresh = state?.transformHash === aggregation.transformHash && state.format === FORMAT && state.seq <= last && (await packsPresent(layout, blockDatesOf(commits.filter((c) => c.seq <= state.seq))));
  const report = (dates: number): BackfillReport => ({ view: record.name, version: record.version, dates, upToCommit: last, seconds: (performance.now() - started) / 1000 });
  if (fresh && state.seq === last) return report(0);
  if (!fresh) await rm(tilesDir(layout), { recursive: true, force: true });
  const since = fresh ? state.seq : 0;
  const dates = [...new Set(commits.filter((c) => c.seq > since).flatMap(commitDates).flatMap(following))].sort();
  // Packed rows of the other dates are current: no commit since the last backfill touched them.
  const notRebuilt = `${block.day} NOT IN (${dates.map(partitionStart).join(", ")})`;
  const columnTypes = new Map(aggregation.events.map((e) => [e.name, e.type]));
  const columns = columnPartials(aggregation.aggregates);
  const months = [...new Set(dates.map(monthOf))];
  let done = 0;
  const step = (phase: string): void => onProgress({ phase, percent: (++done / (dates.length + months.length)) * 100 });
  const scratch = join(tilesDir(layout), scratchName());
  /** Rebuilt date → its block file in the scratch folder; a date whose events were all erased has none. */
  const built = new Map<string, string>();
  try {
    for (const date of dates) {
      if (blockDates.has(date)) {
        const [from, to] = [addDays(date, -reach), addDays(date, -1)];
        const earlier = {
          packs: reach > 0 ? await monthPackFiles(layout, from, to) : [],
          keep: `${block.day} >= ${partitionStart(from)} AND ${block.day} <= ${partitionStart(to)} AND ${notRebuilt}`,
          files: [...built].filter(([d]) => d >= from).map(([, file]) => file),
        };
        const eventFiles = committedFiles(layout, commits, (d) => d === date);
        const dir = join(scratch, `date=${date}`);
        await mkdir(dir, { recursive: true });
        await withBlocks(duck, earlier, (earlierBlocks) =>
          writeBlockFile(duck, dir, compileDayBlock({ joinKeys: record.spec.joinKeys, columns, columnTypes, dayStart: partitionStart(date), eventFiles, earlierBlocks, slides, offsets })),
        );
        built.set(date, join(dir, BLOCK_FILE));
      }
      step("building tiles");
    }
    for (const month of months) {
      const dir = monthDir(layout, month);
      if ([...blockDates].some((d) => monthOf(d) === month)) {
        const files = [...built].filter(([d]) => monthOf(d) === month).map(([, file]) => file);
        await mkdir(dir, { recursive: true });
        await withBlocks(duck, { packs: await monthPackFiles(layout, `${month}-01`, `${month}-01`), keep: notRebuilt, files }, (blocks) => {
          if (blocks === null) throw new StorageError(`backfill of ${record.name}: no blocks for ${month}, neither rebuilt nor packed`);
          return writeBlockFile(duck, dir, `SELECT * FROM ${blocks}`);
        });
      } else await rm(dir, { recursive: true, force: true }); // every event of the month was erased
      step("packing tiles");
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  await writeAtomically(join(tilesDir(layout), "state.json"), JSON.stringify({ seq: last, transformHash: aggregation.transformHash, format: FORMAT } satisfies TileState));
  return report(dates.length);
}
