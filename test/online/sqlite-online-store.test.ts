import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import type { StoredRecord, ViewRef } from "../../src/online/online-store.js";
import { SqliteOnlineStore } from "../../src/online/sqlite-online-store.js";
import { tempDir } from "../helpers/temp-dir.js";
import { checkConcurrentOutcome, onlineStoreConformance, randomBatches, type OnlineStoreBackend } from "./online-store-conformance.js";

/** The embedded durable online store: one SQLite file per test (in a temp folder), against the store contract. */
function sqliteBackend(): OnlineStoreBackend {
  let dir: string | undefined;
  return {
    name: "sqlite",
    useInThisSuite() {
      before(async () => {
        dir = await tempDir("strata-online-");
      });
    },
    isolate() {
      if (dir === undefined) throw new Error("sqliteBackend(): call useInThisSuite() in the describe body");
      const file = join(dir, `${randomUUID()}.sqlite`);
      return {
        open: (project) => new SqliteOnlineStore(file, project),
        shiftWriteTs(project, view, entityKey, deltaMicros) {
          const db = new Database(file, { timeout: 5000 });
          try {
            const changed = db
              .prepare("UPDATE online_records SET write_ts = write_ts + ? WHERE project = ? AND view = ? AND version = ? AND entity_key = ?")
              .run(deltaMicros, project, view.view, view.version, entityKey).changes;
            if (changed !== 1) throw new Error(`shiftWriteTs changed ${changed} rows`);
          } finally {
            db.close();
          }
          return Promise.resolve();
        },
      };
    },
  };
}

onlineStoreConformance(sqliteBackend());

describe("SQLite online store: writers in several threads on one file", () => {
  let dir: string | undefined;
  before(async () => {
    dir = await tempDir("strata-online-threads-");
  });

  it("ends with the newest row of every key, and write times that order each key's applied writes", async () => {
    const file = join(dir!, `${randomUUID()}.sqlite`);
    const view: ViewRef = { view: "driver_stats", version: 1 };
    const reader = new SqliteOnlineStore(file, "p"); // creates the tables before the workers race
    try {
      const workers = 4;
      const perWorker = Array.from({ length: workers }, () => randomBatches(60, 20, 40));
      const start = new Int32Array(new SharedArrayBuffer(4));
      const running = perWorker.map((batches) => {
        const worker = new Worker(new URL("./conformance-sqlite-writer.js", import.meta.url), { workerData: { file, project: "p", view, batches, start } });
        return new Promise<StoredRecord[][]>((resolve, reject) => {
          worker.once("message", (results: StoredRecord[][]) => resolve(results));
          worker.once("error", reject);
          worker.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`writer exited with ${code}`))));
        });
      });
      await new Promise((resolve) => setTimeout(resolve, 200)); // let every worker open its store and wait
      Atomics.store(start, 0, 1);
      Atomics.notify(start, 0);
      const results = await Promise.all(running);
      await checkConcurrentOutcome(reader, perWorker.flat(), results.flat());
    } finally {
      await reader.close();
    }
  });
});
