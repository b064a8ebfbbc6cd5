import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { aggregationView, batchSource, collectDefinitions, compileDefinitions, entity, Float64, Int64 } from "../../src/index.js";
import type { FeatureStore } from "../../src/feature-store.js";
import type { OnlineService } from "../../src/online/online-service.js";
import { RateLimiter } from "../../src/stream/rate-limiter.js";
import { StreamProcessor, type StreamMessage } from "../../src/stream/stream-processor.js";
import { randomSchemaName, usePostgres } from "../helpers/postgres-server.js";
import { openProject } from "../helpers/project.js";

/**
 * A stream commit of several parts on the PostgreSQL durable store, where the parts written at
 * once run as concurrent transactions on the pool (on SQLite, one thread takes them in turn):
 * every key's value as summed by hand, the position moved once, no deadlock.
 */
describe("stream commits on PostgreSQL", () => {
  const postgres = usePostgres();
  let store: FeatureStore;
  let online: OnlineService;

  before(async () => {
    process.env.STRATA_TEST_PG_URL = postgres.url();
    const pg = { type: "postgres", url: "${STRATA_TEST_PG_URL}", schema: randomSchemaName() };
    ({ store } = await openProject({ config: { online: pg } }));
    const card = entity({ name: "card", joinKeys: ["card_id"], valueType: Int64 });
    const tx = aggregationView({ name: "tx", entities: [card], schema: { amount: Float64 }, source: batchSource({ path: "tx.csv", timestampField: "ts" }), aggregations: [{ column: "amount", function: "sum", window: "1h" }], allowedLateness: "1m" });
    await store.apply(compileDefinitions(collectDefinitions({ tx })));
    online = await store.online({ role: "batch" });
    assert.equal(online.durable.constructor.name, "PostgresOnlineStore");
  });
  after(() => store.close());

  it("writes a commit's parts two at a time and each key's state once, then moves the position", async () => {
    const target = await online.target("tx");
    let running = 0;
    let most = 0;
    const writer = Object.create(online.writer) as typeof online.writer;
    writer.commitCheckpoint = async (t, rows, checkpoint, whole) => {
      most = Math.max(most, ++running);
      try {
        return await online.writer.commitCheckpoint(t, rows, checkpoint, whole);
      } finally {
        running--;
      }
    };
    const p = new StreamProcessor({ target, consumer: "pg-parts", durable: online.durable, writer, limiter: new RateLimiter(1e9), appendOffline: () => Promise.resolve(), offlineUpTo: 0, offlineFlushEvents: 1e9, offlineFlushMs: 1e9 });
    await p.start();
    const keys = 7000; // four parts of 2000
    const t0 = Date.UTC(2024, 0, 5, 12);
    const expected = new Map<number, number>();
    let seq = 0;
    const batch = (round: number): StreamMessage[] =>
      Array.from({ length: keys }, (_, i) => {
        const amount = (i % 97) + round;
        expected.set(i, (expected.get(i) ?? 0) + amount);
        return { seq: ++seq, arrivedMicros: Date.now() * 1000, data: JSON.stringify({ card_id: i, ts: new Date(t0 + round * 60_000 + i).toISOString(), amount }) };
      });
    await p.applyBatch(batch(0));
    await p.flush();
    assert.equal((await online.durable.loadCheckpoint("pg-parts"))?.seq, keys);
    await p.applyBatch(batch(1));
    await p.flush(true);
    assert.equal(most, 2, "two parts were written at once");
    assert.equal((await online.durable.loadCheckpoint("pg-parts"))?.seq, 2 * keys);
    const ids = Array.from({ length: keys }, (_, i) => i);
    const { result } = await online.read({ features: ["tx:amount_sum_1h"] }, { card_id: ids }, t0 + 30 * 60_000);
    assert.deepEqual(result.columns[0]!.values, ids.map((i) => expected.get(i)));
  });
});
