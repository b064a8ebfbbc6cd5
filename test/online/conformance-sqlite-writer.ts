import { parentPort, workerData } from "node:worker_threads";
import type { OnlineWrite, StoredRecord, ViewRef } from "../../src/online/online-store.js";
import { SqliteOnlineStore } from "../../src/online/sqlite-online-store.js";

/**
 * A worker thread for sqlite-online-store.test.ts: its own SqliteOnlineStore (its own
 * connection) on a shared file, writing its batches one after another (with short pauses), so several workers
 * write the same file truly at the same time (within one thread SQLite calls never overlap).
 * All workers wait on `start` (a shared Int32Array) so they begin together.
 */
export interface SqliteWriterInput {
  readonly file: string;
  readonly project: string;
  readonly view: ViewRef;
  readonly batches: readonly OnlineWrite[][];
  readonly start: Int32Array;
}

const input = workerData as SqliteWriterInput;
const store = new SqliteOnlineStore(input.file, input.project);
Atomics.wait(input.start, 0, 0);
const results: StoredRecord[][] = [];
for (const batch of input.batches) {
  results.push(await store.writeBatch(input.view, batch));
  // A pause between batches: SQLite's busy handler sleeps, so without it the first writer keeps
  // the lock for all its batches and the workers would merely take turns.
  await new Promise((resolve) => setTimeout(resolve, Math.random() < 0.5 ? 0 : 1));
}
await store.close();
parentPort?.postMessage(results);
