import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { aggregationView, batchSource, collectDefinitions, compileDefinitions, entity, Float64, Int64 } from "../../src/index.js";
import type { FeatureStore } from "../../src/feature-store.js";
import type { OnlineService } from "../../src/online/online-service.js";
import { RateLimiter } from "../../src/stream/rate-limiter.js";
import { StreamProcessor } from "../../src/stream/stream-processor.js";
import { openProject } from "../helpers/project.js";
import { randomKeyPrefix, useRedis } from "../helpers/redis-server.js";
import { sameValue, windowValue, type OracleEvent } from "../helpers/window-oracle.js";

const MIN = 60_000_000;
const KEYS = 6;

/**
 * A stream commit stores a key's state as a head and, when enough tiles have closed, its sealed
 * tiles apart (key-state-split.ts). Online reads must see the whole state either way: from the
 * cache, where a commit puts the whole state, and from the durable store on a miss, where the
 * reader joins the two parts. Checked against the window oracle after every commit, on a real
 * SQLite store and a real Redis.
 */
describe("aggregation states stored as head and sealed tiles", () => {
  const redis = useRedis();
  let store: FeatureStore;
  let online: OnlineService;

  before(async () => {
    // A generous cache timeout: this test is about values, and a loaded machine must not turn a read degraded.
    ({ store } = await openProject({ config: { online: { type: "sqlite", cache: { type: "redis", url: redis.url(), keyPrefix: randomKeyPrefix("sealed"), readTimeoutMs: 5000 } } } }));
    const card = entity({ name: "card", joinKeys: ["card_id"], valueType: Int64 });
    const tx = aggregationView({
      name: "tx",
      entities: [card],
      schema: { amount: Float64 },
      source: batchSource({ path: "tx.csv", timestampField: "ts" }),
      aggregations: [
        { column: "*", function: "count", window: "20m" },
        { column: "amount", function: "sum", window: "1h" },
        { column: "amount", function: "max", window: "3h", hop: "30m" },
      ],
      allowedLateness: "2m",
    });
    await store.apply(compileDefinitions(collectDefinitions({ tx })));
    online = await store.online({ role: "batch" });
  });
  after(() => store.close());

  it("reads the oracle's values from the cache and, after the cache is emptied, from the durable store", async () => {
    const target = await online.target("tx");
    assert.equal(online.writer.cachesCommits(target), true, "a shared cache takes aggregation states");
    const processor = new StreamProcessor({ target, consumer: "sealed", durable: online.durable, writer: online.writer, limiter: new RateLimiter(100_000), appendOffline: () => Promise.resolve(), offlineUpTo: 0, offlineFlushEvents: 1_000, offlineFlushMs: 60_000 });
    await processor.start();
    const spec = (await online.registrySnapshot()).views.find((v) => v.name === "tx")!.spec.aggregation!.aggregates;
    const base = Date.UTC(2024, 2, 1, 9);
    const accepted: OracleEvent[] = [];
    const keys = Array.from({ length: KEYS }, (_, i) => String(i + 1));
    let seq = 0;
    let sealedSeen = 0;
    // 5 hours of events, one commit per 20 minutes of event time; one key gets nothing for an hour.
    for (let commit = 0; commit < 15; commit++) {
      const messages = [];
      for (let j = 0; j < 8; j++) {
        const key = String(1 + ((commit * 8 + j) % KEYS));
        if (key === "3" && commit >= 6 && commit < 9) continue;
        const ts = base * 1000 + commit * 20 * MIN + j * 2 * MIN + (j % 3) * 17_000_000;
        const amount = ((commit * 31 + j * 7) % 50) / 4;
        messages.push({ seq: ++seq, arrivedMicros: ts + MIN, data: JSON.stringify({ card_id: Number(key), ts: new Date(ts / 1000).toISOString(), amount }) });
        accepted.push({ key, ts, cr: ts + MIN, values: { amount } });
      }
      await processor.applyBatch(messages);
      await processor.flush();
      await online.populate.drain();
      sealedSeen += (await online.durable.readStates(target.ref, keys)).filter((r) => r?.sealed !== undefined).length;
      const readAt = Math.max(...accepted.map((e) => e.ts)) + 1;
      const check = async (from: string): Promise<void> => {
        const { result } = await online.read({ features: spec.map((a) => `tx:${a.name}`) }, { card_id: keys.map(Number) }, readAt / 1000);
        assert.equal(result.degraded, false, `${from}: ${result.degradedReason ?? ""}`);
        spec.forEach((a, f) => {
          keys.forEach((key, i) => {
            const expected = windowValue(accepted, key, readAt, a);
            const got = result.columns[f]!.values[i] ?? null;
            assert.ok(sameValue(got, expected, 1e3), `commit ${commit}, ${from}: key ${key} ${a.name} = ${JSON.stringify(got)}, expected ${String(expected)}`);
          });
        });
      };
      await check("cache");
      await online.cache.delete(keys.map((k) => online.keys.entry(target.ref, k)));
      await check("durable store");
    }
    assert.ok(sealedSeen > 0, "some commits stored sealed tiles");
  });
});
