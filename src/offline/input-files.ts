import { stat } from "node:fs/promises";
import { quoteString } from "../util/sql.js";
import type { DuckDb } from "./duckdb.js";

const isGlob = (path: string): boolean => /[*?[{]/.test(path);

/**
 * The files an input path names (a file or a glob), sorted, with their sizes. Globs are
 * expanded by DuckDB, as its readers would; a plain path that does not exist yields [].
 */
export async function inputFiles(duck: DuckDb, path: string): Promise<{ path: string; size: number }[]> {
  const paths = isGlob(path) ? (await duck.rows(`SELECT file FROM glob(${quoteString(path)}) ORDER BY file`)).map((r) => r.file as string) : [path];
  const found = [];
  for (const file of paths) {
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile() === true) found.push({ path: file, size: info.size });
  }
  return found;
}
