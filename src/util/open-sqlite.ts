import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";

/** How long a writer waits for another process's write lock before failing (ms). */
export const SQLITE_BUSY_TIMEOUT_MS = 10_000;

/**
 * Opens a SQLite file the way Strata's embedded stores share it between processes: its folder
 * created, WAL mode, the busy timeout, `synchronous` as the store needs (FULL survives a power
 * cut; NORMAL a killed process), and `ddl` run once in an immediate transaction.
 */
export function openSqlite(path: string, synchronous: "FULL" | "NORMAL", ddl: readonly string[]): Database.Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${synchronous}`);
  if (ddl.length > 0) db.transaction(() => ddl.forEach((sql) => db.exec(sql))).immediate();
  return db;
}
