import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { connect } from "nats";
import { aggregationView, batchSource, collectDefinitions, compileDefinitions, entity, Float64, Int64, streamSource } from "../../src/index.js";
import { FeatureStore } from "../../src/feature-store.js";
import type { OnlineService } from "../../src/online/online-service.js";
import type { App } from "../../src/server/app.js";
import { createServerApp } from "../../src/server/create-server-app.js";
import { natsEventPublisher } from "../../src/stream/event-publisher.js";
import { runCli } from "../helpers/cli.js";
import { startCliProcess } from "../helpers/server-process.js";
import { startNats, type NatsServer } from "../helpers/nats-server.js";
import { makeProject } from "../helpers/project.js";

const CONSUMER = "strata_test_project_tx_v1";

/**
 * Events pushed to the feature server reach the stream, `strata stream run` applies them, and
 * the server (and `strata get`) reads aggregates at a read time: merged from tiles, decaying to
 * 0 / null once the window has passed with no new event.
 */
describe("pushing events and serving aggregates", () => {
  let nats: NatsServer;
  let dir: string;
  let store: FeatureStore;
  let online: OnlineService;
  let app: App;
  let publisher: ReturnType<typeof natsEventPublisher>;
  const post = async (path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const response = await app.handle({ method: "POST", path, body: Buffer.from(JSON.stringify(body)), headers: {} });
    return { status: response.status, json: JSON.parse(response.body === "" ? "{}" : response.body) as Record<string, unknown> };
  };

  before(async () => {
    nats = await startNats();
    const nc = await connect({ servers: nats.url });
    await (await nc.jetstreamManager()).streams.add({ name: "tx", subjects: ["tx.*"] });
    await nc.close();
    dir = await makeProject({ config: { stream: { nats: { url: nats.url }, flushIntervalMs: 50 } } });
    store = await FeatureStore.open(dir);
    const card = entity({ name: "card", joinKeys: ["card_id"], valueType: Int64 });
    const tx = aggregationView({
      name: "tx",
      entities: [card],
      schema: { amount: Float64 },
      source: streamSource({ nats: { stream: "tx", subject: "tx.*" }, timestampField: "ts", batch: batchSource({ path: "tx.parquet", timestampField: "ts" }) }),
      aggregations: [
        { column: "*", function: "count", window: "10m" },
        { column: "amount", function: "sum", window: "1h" },
      ],
    });
    await store.apply(compileDefinitions(collectDefinitions({ tx })));
    online = await store.online();
    publisher = natsEventPublisher(nats.url);
    app = createServerApp({ online, offlineIngest: (record, rows, ts) => store.ingestRows(record, rows, ts), publishEvents: publisher.publish });
  });
  after(async () => {
    await publisher?.close();
    await store?.close();
    await nats?.stop();
  });

  it("serves what the stream processor made of the pushed events, at any read time", async () => {
    const df = { card_id: [1, 1, 1, 2], ts: ["2024-06-01T10:00:00Z", "2024-06-01T10:04:00Z", "2024-06-01T10:20:00Z", "2024-06-01T10:21:00Z"], amount: [10, 2.5, 1, 100] };
    const pushed = await post("/push", { push_source_name: "tx", df });
    assert.equal(pushed.status, 200, JSON.stringify(pushed.json));
    const bad = await post("/push", { push_source_name: "tx", df, to: "online_and_offline" });
    assert.equal(bad.status, 400);
    assert.equal((await post("/write-to-online-store", { feature_view_name: "tx", df })).status, 400);

    const read = async (at: string): Promise<unknown[][]> => {
      const { status, json } = await post("/v1/online-features", { features: ["tx:count_10m", "tx:amount_sum_1h"], entities: { card_id: [1, 2, 3] }, read_time: at });
      assert.equal(status, 200, JSON.stringify(json));
      return (json.results as { values: unknown[] }[]).slice(1).map((r) => r.values);
    };
    // Read before the processor has run: the server's in-process cache must not keep this answer.
    assert.deepEqual(await read("2024-06-01T10:05:00Z"), [[0, 0, 0], [null, null, null]]);
    const processor = await startCliProcess(["-C", dir, "stream", "run", "tx", "--port", "0"]);
    try {
      const deadline = Date.now() + 20_000;
      while ((await online.durable.loadCheckpoint(CONSUMER))?.seq !== 4 && Date.now() < deadline) await sleep(50);
      const metrics = await (await fetch(`${processor.url}/metrics`)).text();
      assert.match(metrics, /^strata_stream_events_total\{view="tx"\} 4$/m);
      assert.match(metrics, /^strata_stream_freshness_seconds_count\{view="tx"\} 4$/m, "event time → visible, per event");
      assert.match(metrics, /^strata_stream_consumer_lag\{view="tx"\} 0$/m);
    } finally {
      await processor.stop(); // a stopped processor appends what the event log still lacks
    }
    // At 10:05: count over [09:55, 10:05) → card 1 has 2; sum over [09:05, 10:05) → 12.5.
    assert.deepEqual(await read("2024-06-01T10:05:00Z"), [[2, 0, 0], [12.5, null, null]]);
    // At 10:21:00, strictly before card 2's event: count [10:10, 10:21) → card 1's 10:20 event only.
    assert.deepEqual(await read("2024-06-01T10:21:00Z"), [[1, 0, 0], [13.5, null, null]]);
    // Two hours on, with no new event, both windows have emptied: the values decay.
    assert.deepEqual(await read("2024-06-01T12:30:00Z"), [[0, 0, 0], [null, null, null]]);
    const cli = await runCli(["-C", dir, "get", "--features", "tx:count_10m,tx:amount_sum_1h", "--entity", "card_id=2", "--read-time", "2024-06-01T10:25:00Z", "--json"]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /"count_10m":\s*1/);
    assert.match(cli.stdout, /"amount_sum_1h":\s*100/);
    // The stream processor also appended the events to the event log: batch sees what streaming saw.
    const set = await store.getHistoricalFeatures({ entities: [{ card_id: 1, event_timestamp: "2024-06-01T10:21:00Z" }], features: ["tx:amount_sum_1h"] });
    assert.deepEqual((await set.toRows()).map((r) => r.amount_sum_1h), [13.5]);
    await set.close();
  });
});
