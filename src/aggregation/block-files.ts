import { rename } from "node:fs/promises";
import { join } from "node:path";
import type { DuckDb } from "../offline/duckdb.js";
import { processAlive } from "../util/process-alive.js";
import { quoteString } from "../util/sql.js";

/**
 * Day blocks are stored as DuckDB database files holding one table: a month's pack, or a date's
 * while a backfill builds it (see tile-files.ts). DuckDB reads their event lists several times
 * faster from its own format than from Parquet (on the aggregation benchmark, the block scan of a
 * training set took 0.9 CPU-seconds instead of 2.1). Blocks are derived data, rebuilt by a
 * backfill; nothing outside Strata reads them.
 */
export const BLOCK_FILE = "blocks.duckdb";
const TABLE = "blocks";
/** Names a file written but not yet renamed into place. */
const TEMPORARY_PREFIX = ".blocks-";

/** A temporary block file (or its write-ahead log) or a backfill's scratch folder, named by its writer's pid. */
export const isTemporary = (name: string): boolean => name.startsWith(TEMPORARY_PREFIX);

/** A temporary whose writer is gone: what a killed backfill leaves. */
const isLeftover = (name: string): boolean => isTemporary(name) && !processAlive(Number.parseInt(name.slice(TEMPORARY_PREFIX.length), 10));

/** A file that holds day blocks: a pack or a scratch folder's block file, or a leftover temporary file that may hold older ones. */
export const holdsBlocks = (name: string): boolean => name === BLOCK_FILE || (isLeftover(name) && name.endsWith(".duckdb"));

let attachments = 0;
const alias = (): string => `__blocks_${++attachments}`;

/**
 * Writes a query's rows as the block file in `dir`: into a temporary file first (detaching it
 * checkpoints it, leaving no write-ahead log), then renamed over the old file, so readers see
 * the old blocks or the new ones.
 */
export async function writeBlockFile(duck: DuckDb, dir: string, sql: string): Promise<void> {
  const tmp = join(dir, `${TEMPORARY_PREFIX}${process.pid}-${Date.now()}.duckdb`);
  const name = alias();
  await duck.run(`ATTACH ${quoteString(tmp)} AS ${name}`);
  try {
    await duck.run(`CREATE TABLE ${name}.${TABLE} AS ${sql}`);
  } finally {
    await duck.run(`DETACH ${name}`);
  }
  await rename(tmp, join(dir, BLOCK_FILE));
}

/** A folder of its own for a backfill's blocks being built; one a killed backfill left is a leftover. */
export const scratchName = (): string => `${TEMPORARY_PREFIX}${process.pid}-${Math.random().toString(36).slice(2)}`;

/**
 * Runs `use` with a relation over the rows of `packs` that pass `keep` and every row of `files`
 * (null when there are neither).
 */
export function withBlocks<T>(duck: DuckDb, sources: { readonly packs: readonly string[]; readonly keep: string; readonly files: readonly string[] }, use: (blocks: string | null) => Promise<T>): Promise<T> {
  return withBlockFiles(duck, sources.packs, (packed) =>
    withBlockFiles(duck, sources.files, (fresh) => {
      const parts = [...(packed === null ? [] : [`SELECT * FROM ${packed} WHERE ${sources.keep}`]), ...(fresh === null ? [] : [`SELECT * FROM ${fresh}`])];
      return use(parts.length === 0 ? null : `(${parts.join(" UNION ALL BY NAME ")})`);
    }),
  );
}

/**
 * Runs `use` with the block files attached read-only and a relation over all their rows (null
 * when there are none), and detaches them afterwards. A file a backfill replaces meanwhile is
 * read as it was when attached.
 *
 * @example
 * await withBlockFiles(duck, files, (blocks) => duck.rows(`SELECT count(*) AS n FROM ${blocks}`));
 */
export async function withBlockFiles<T>(duck: DuckDb, files: readonly string[], use: (blocks: string | null) => Promise<T>): Promise<T> {
  const names: string[] = [];
  try {
    for (const file of files) {
      const name = alias();
      await duck.run(`ATTACH ${quoteString(file)} AS ${name} (READ_ONLY)`);
      names.push(name);
    }
    return await use(names.length === 0 ? null : `(${names.map((n) => `SELECT * FROM ${n}.${TABLE}`).join(" UNION ALL BY NAME ")})`);
  } finally {
    for (const name of names) await duck.run(`DETACH ${name}`);
  }
}
