import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { ViewVersionLayout } from "../offline/offline-layout.js";
import { BLOCK_FILE, isTemporary } from "./block-files.js";

/**
 * Where an aggregation view's day blocks (see day-blocks.ts) live, beside its event log:
 *   <view>/v<N>/_tiles/months/month=YYYY-MM/blocks.duckdb   a month's dates' blocks in one table
 *   <view>/v<N>/_tiles/state.json                           see backfill.ts
 *   <view>/v<N>/_tiles/.blocks-<pid>-<id>/                  a running backfill's scratch folder
 *   <view>/v<N>/_tiles.lock                                  held by the running backfill (outside _tiles, which a rebuild removes)
 * One table per month, not per date, because DuckDB scans a table with a thread per row group,
 * but runs a union of small date tables (one row group each) one table at a time: on the
 * aggregation benchmark a training set took 7.9 s from the 30 date tables of a month, 4.1 s from
 * one table.
 */
export const tilesDir = (layout: ViewVersionLayout): string => join(layout.dir, "_tiles");
export const tilesLock = (layout: ViewVersionLayout): string => join(layout.dir, "_tiles.lock");
export const monthDir = (layout: ViewVersionLayout, month: string): string => join(tilesDir(layout), "months", `month=${month}`);

/** The month (YYYY-MM) of a date (YYYY-MM-DD). */
export const monthOf = (date: string): string => date.slice(0, 7);

/** The month packs that hold dates in [from, to] (YYYY-MM-DD). */
export async function monthPackFiles(layout: ViewVersionLayout, from: string, to: string): Promise<string[]> {
  const dir = join(tilesDir(layout), "months");
  const files = (await list(dir))
    .filter((n) => n.startsWith("month=") && n.slice(6) >= monthOf(from) && n.slice(6) <= monthOf(to))
    .sort()
    .map((n) => join(dir, n, BLOCK_FILE));
  const found = await Promise.all(files.map(exists));
  return files.filter((_, i) => found[i]);
}

/** Whether every month of `dates` (YYYY-MM-DD) has its pack. */
export async function packsPresent(layout: ViewVersionLayout, dates: Iterable<string>): Promise<boolean> {
  const months = new Set([...dates].map(monthOf));
  return (await Promise.all([...months].map((month) => exists(join(monthDir(layout, month), BLOCK_FILE))))).every(Boolean);
}

/** Removes every scratch folder and temporary block file: to be called holding the backfill lock, when none can be another's work in progress. */
export async function removeTemporaries(layout: ViewVersionLayout): Promise<void> {
  const months = join(tilesDir(layout), "months");
  const dirs = [tilesDir(layout), ...(await list(months)).map((name) => join(months, name))];
  for (const dir of dirs) for (const name of await list(dir)) if (isTemporary(name)) await rm(join(dir, name), { recursive: true, force: true });
}

const list = (dir: string): Promise<string[]> => readdir(dir).catch(() => []);
const exists = (file: string): Promise<boolean> => stat(file).then(() => true, () => false);
