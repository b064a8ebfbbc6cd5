import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { ViewVersionLayout } from "../offline/offline-layout.js";
import { BLOCK_FILE } from "./block-files.js";

/**
 * Where an aggregation view's day blocks (see day-blocks.ts) live, beside its event log:
 *   <view>/v<N>/_tiles/days/date=YYYY-MM-DD/blocks.duckdb   a date's blocks: what a backfill
 *                                                           rebuilds, and what the next date reads
 *   <view>/v<N>/_tiles/months/month=YYYY-MM/blocks.duckdb   a month's dates' blocks in one table:
 *                                                           what training sets read
 *   <view>/v<N>/_tiles/state.json                           see backfill.ts
 * Month packs exist because DuckDB scans one table with a thread per row group, but runs a union
 * of small date tables (one row group each) one table at a time: on the aggregation benchmark a
 * training set took 7.9 s from the 30 date files of a month, 4.1 s from its pack.
 */
export const tilesDir = (layout: ViewVersionLayout): string => join(layout.dir, "_tiles");
export const dateDir = (layout: ViewVersionLayout, date: string): string => join(tilesDir(layout), "days", `date=${date}`);
export const monthDir = (layout: ViewVersionLayout, month: string): string => join(tilesDir(layout), "months", `month=${month}`);

/** The month (YYYY-MM) of a date (YYYY-MM-DD). */
export const monthOf = (date: string): string => date.slice(0, 7);

/** The block files of dates in [from, to] (YYYY-MM-DD); a date folder whose file a killed backfill never wrote has none. */
export const dayBlockFiles = (layout: ViewVersionLayout, from: string, to: string): Promise<string[]> => blockFilesIn(join(tilesDir(layout), "days"), "date=", from, to);

/** The month packs that hold dates in [from, to] (YYYY-MM-DD). */
export const monthPackFiles = (layout: ViewVersionLayout, from: string, to: string): Promise<string[]> => blockFilesIn(join(tilesDir(layout), "months"), "month=", monthOf(from), monthOf(to));

async function blockFilesIn(dir: string, prefix: string, from: string, to: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const files = names
    .filter((n) => n.startsWith(prefix) && n.slice(prefix.length) >= from && n.slice(prefix.length) <= to)
    .sort()
    .map((n) => join(dir, n, BLOCK_FILE));
  const present = await Promise.all(files.map((f) => stat(f).then(() => true, () => false)));
  return files.filter((_, i) => present[i]);
}
