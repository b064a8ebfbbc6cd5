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
  // Switching a file another process is opening too to WAL can fail at once, without the busy
  // handler: 4 of 1,980 processes did, six opening a new file at a time (none with the retry).
  retryWhileBusy(() => db.pragma("journal_mode = WAL"), SQLITE_BUSY_TIMEOUT_MS);
  db.pragma(`synchronous = ${synchronous}`);
  if (ddl.length > 0) db.transaction(() => ddl.forEach((sql) => db.exec(sql))).immediate();
  return db;
}

/**
 * Runs `step` again while SQLite reports SQLITE_BUSY, pausing `pauseMs` between tries, until
 * `timeoutMs` has passed (then the last error is thrown); any other error is thrown at once.
 * Synchronous, as opening a store is.
 *
 * @example
 * retryWhileBusy(() => db.pragma("journal_mode = WAL"), SQLITE_BUSY_TIMEOUT_MS);
 */
export function retryWhileBusy<T>(step: () => T, timeoutMs: number, pauseMs = 5): T {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return step();
    } catch (error) {
      if ((error as { code?: unknown } | null)?.code !== "SQLITE_BUSY" || Date.now() >= until) throw error;
      Atomics.wait(PAUSE, 0, 0, pauseMs);
    }
  }
}

/** Never notified: Atomics.wait on it is a synchronous sleep. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));
