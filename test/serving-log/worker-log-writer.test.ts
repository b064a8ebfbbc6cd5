import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { planSpec, packResponse } from "../../src/serving-log/log-rows.js";
import { PackedBuilder } from "../../src/serving-log/packed-transfer.js";
import { WorkerLogWriter } from "../../src/serving-log/worker-log-writer.js";
import type { ReadPlan } from "../../src/online/read/read-plan.js";
import type { OnlineReadResult } from "../../src/online/read/online-reader.js";
import { Float64 } from "../../src/index.js";
import { DuckDb } from "../../src/offline/duckdb.js";
import { ServingLogLayout } from "../../src/serving-log/serving-log-layout.js";
import { tempDir } from "../helpers/temp-dir.js";
import type { Worker } from "node:worker_threads";

const plan: ReadPlan = {
  joinKeys: [{ name: "driver_id", type: "Int64" }],
  views: [{ ref: { view: "stats", version: 2 }, joinKeys: [{ name: "driver_id", type: "Int64" }], ttlSeconds: null, features: [{ name: "rate", type: Float64, output: "rate" }] }],
};
const result = (value: number): OnlineReadResult => ({ rows: 1, degraded: false, columns: [{ values: [value], statuses: ["PRESENT"], eventTimestamps: [1_714_557_600_000_000] }] });

/** The writer thread: what it writes, and what happens when it dies. */
describe("serving log writer thread", () => {
  it("writes packed responses, and after its thread dies reports what it held as lost and starts a new one", async () => {
    const root = await tempDir();
    const writer = new WorkerLogWriter({ offlineRoot: root, duck: {}, maxWriteAttempts: 3, niceness: 10 });
    const send = (planId: number, requestId: string, value: number): void => {
      const packed = new PackedBuilder();
      packResponse(packed, planId, plan, requestId, Date.now(), "svc", { driver_id: [7] }, result(value));
      writer.rows(packed.take(), 1, 1);
    };
    try {
      writer.plan(1, planSpec(plan));
      send(1, `${Date.now().toString(36)}-a1`, 0.5);
      assert.deepEqual(await writer.flush(), { files: 1, rows: 1, responses: 1, failures: 0, writeFailed: { responses: 0, rows: 0 }, unloggable: { responses: 0, rows: 0 } });
      send(99, `${Date.now().toString(36)}-a2`, 0.125); // a plan it was never told of (a bug): counted, not written
      assert.deepEqual((await writer.flush()).unloggable, { responses: 1, rows: 1 });
      send(1, `${Date.now().toString(36)}-a3`, 0.25);
      await (writer as unknown as { worker: Worker }).worker.terminate(); // the thread dies (out of memory, a native crash)
      const lost = await writer.flush();
      assert.equal(lost.failures, 1);
      assert.deepEqual(lost.writeFailed, { responses: 1, rows: 1 }, "what the dead thread held is reported, not silently gone");
      send(1, `${Date.now().toString(36)}-a4`, 0.75); // a new thread, told of plan 1 again
      assert.equal((await writer.flush()).rows, 1);
    } finally {
      await writer.close();
    }
    const duck = await DuckDb.open();
    try {
      const files = await new ServingLogLayout(root).partFiles();
      const rows = await duck.rows(`SELECT request_id, features, feature_values, statuses, event_timestamps FROM read_parquet([${files.map((f) => `'${f}'`).join(", ")}]) ORDER BY request_id`);
      assert.deepEqual(rows.map((r) => (r.request_id as string).slice(-2)), ["a1", "a4"]);
      assert.deepEqual({ ...rows[1] }, {
        request_id: rows[1]!.request_id,
        features: '[{"feature":"stats:rate","view":"stats","version":2}]',
        feature_values: "[0.75]",
        statuses: "P",
        event_timestamps: `{"stats":${Date.parse("2024-05-01T10:00:00Z") * 1000}}`,
      });
    } finally {
      duck.close();
    }
  });
});
