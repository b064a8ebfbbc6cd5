import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { connect, type NatsConnection } from "nats";
import { FeatureStore } from "../../src/feature-store.js";
import { decodeEntry } from "../../src/online/cache/cache-entry.js";
import { CacheKeys } from "../../src/online/cache/cache-keys.js";
import { EntryLifetime } from "../../src/online/cache/entry-lifetime.js";
import type { OnlineService } from "../../src/online/online-service.js";
import { isTombstone } from "../../src/online/tombstone.js";
import { createServerApp } from "../../src/server/create-server-app.js";
import { ServingLog } from "../../src/serving-log/serving-log.js";
import type { ErasureRecord } from "../../src/erasure/erasure-record.js";
import { cliJson, runCli } from "../helpers/cli.js";
import { startNats, type NatsServer } from "../helpers/nats-server.js";
import { randomSchemaName, usePostgres } from "../helpers/postgres-server.js";
import { makeProject } from "../helpers/project.js";
import { useRedisCluster } from "../helpers/redis-cluster.js";
import { randomKeyPrefix } from "../helpers/redis-server.js";
import { startCliProcess, type CliProcess } from "../helpers/server-process.js";
import { filesHoldingBytes, loadErasureProject, OTHERS, offlineFilesMentioning, rowsPerCustomer, SUBJECT } from "./erasure-project.js";

const HOUR = 3_600_000;

/**
 * `strata erase` against PostgreSQL (registry, durable store), a 3-master Redis Cluster, NATS
 * JetStream with a running stream processor, and DuckDB over the offline files; with the races
 * the issue names: cache populates of the old value in flight, a materialization running at the
 * same time, and a replay of the stream from its start after the erase. Then `--verify` finds
 * nothing, and neither a byte scan nor a decoded scan of the offline files finds the subject.
 */
describe("erasure reaches every copy (PostgreSQL, Redis Cluster, NATS, DuckDB)", () => {
  const postgres = usePostgres();
  const redis = useRedisCluster({ masters: 3 });
  let nats: NatsServer;
  let nc: NatsConnection;
  let dir: string;
  let store: FeatureStore;
  let online: OnlineService;
  let processor: CliProcess | undefined;
  const now = Date.now();
  const payments: string[] = [];

  before(async () => {
    nats = await startNats();
    process.env.STRATA_TEST_PG_URL = postgres.url();
    const pg = { type: "postgres", url: "${STRATA_TEST_PG_URL}", schema: randomSchemaName() };
    const cache = { type: "redis-cluster", nodes: redis.cluster().nodes.map((n) => `${n.host}:${n.port}`), keyPrefix: randomKeyPrefix("e") };
    dir = await makeProject({ config: { registry: pg, online: { ...pg, cache }, stream: { nats: { url: nats.url }, flushIntervalMs: 100, offlineFlushMs: 300, erasurePollMs: 200 }, servingLog: { featureRefs: 1, flushIntervalMs: 200 } } });
    store = await FeatureStore.open(dir, { actor: "erasure-test" });
    await loadErasureProject(store, now, { stream: true });
    online = await store.online();
    nc = await connect({ servers: nats.url });
    await (await nc.jetstreamManager()).streams.add({ name: "pay", subjects: ["pay.*"] });
    for (const [i, c] of [SUBJECT, ...OTHERS].entries()) {
      for (let j = 0; j < 5; j++) payments.push(JSON.stringify({ customer_id: c, ts: new Date(now - 20 * HOUR + (i * 5 + j) * 60_000).toISOString(), amount: 10 + j }));
    }
  });
  after(async () => {
    await processor?.kill();
    await nc?.close();
    await nats?.stop();
  });

  const publishAll = async (): Promise<void> => {
    for (const p of payments) await nc.jetstream().publish("pay.a", new TextEncoder().encode(p));
  };
  /** Waits until the processor's checkpoint and event log reach the stream's last message. */
  const caughtUp = async (): Promise<void> => {
    const last = (await (await nc.jetstreamManager()).streams.info("pay")).state.last_seq;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const saved = await online.durable.loadCheckpoint(`strata_${store.config.project}_customer_activity_v1`.replace(/[^A-Za-z0-9_-]/g, "_"));
      if (saved?.seq === last) return;
      await sleep(100);
    }
    assert.fail(`the stream processor did not reach message ${last}`);
  };
  const ref = { view: "customer_profile", version: 1 };
  const keys = (): CacheKeys => new CacheKeys(store.config.online.cache.keyPrefix, store.config.project);
  const subjectKey = JSON.stringify(SUBJECT);

  it("erases the subject from every copy despite populates, a materialization and a stream replay racing it", async () => {
    try {
      await eraseAndCheck();
    } finally {
      await store.close(); // here, not in after(): the PostgreSQL server stops in an earlier after hook
    }
  });

  async function eraseAndCheck(): Promise<void> {
    // Every copy holds the subject: online store + cache (materialize populates it), stream state, event log, tiles.
    processor = await startCliProcess(["-C", dir, "stream", "run", "--port", "0"]);
    await publishAll();
    // Two malformed events (refused, kept as dead letters with their raw payloads): the subject's and another's.
    for (const id of [SUBJECT, OTHERS[0]!]) await nc.jetstream().publish("pay.a", new TextEncoder().encode(`{"customer_id":"${id}","amount":`));
    await caughtUp();
    await sleep(600); // the event log append (offlineFlushMs)
    await store.materialize({ end: new Date(now) });
    await store.backfill("customer_activity");
    await online.populate.drain();
    const before = await online.durable.readMany(ref, [subjectKey]);
    assert.ok(before[0] !== undefined && !isTombstone(before[0]), "the subject is materialized");
    const [cachedBefore] = await online.cache.getMany([keys().entry(ref, subjectKey)]);
    assert.ok(cachedBefore !== null && decodeEntry(cachedBefore!, subjectKey)?.record != null, "and cached");
    const mentioning = await offlineFilesMentioning(await store.engine(), store.config.offline.path, SUBJECT);
    assert.ok(mentioning.some((f) => f.includes("_tiles")) && mentioning.some((f) => !f.includes("_tiles")), `the subject is in the event log and in day blocks: ${mentioning.join(", ")}`);
    const othersBefore = await rowsPerCustomer(store, "customer_profile");
    // The serving log: responses served for the subject (alone, and in a batch with another customer) and for others.
    const servingLog = ServingLog.fromConfig(store.config, online.metrics.registry)!;
    const app = createServerApp({ online, offlineIngest: (r, rows, ts) => store.ingestRows(r, rows, ts), servingLog });
    for (const ids of [[SUBJECT], [OTHERS[0]!, SUBJECT], [OTHERS[1]!]]) {
      const body = JSON.stringify({ features: ["customer_profile:spend", "customer_merchant:visits"].slice(0, 1), entities: { customer_id: ids } });
      assert.equal((await app.handle({ method: "POST", path: "/v1/online-features", body: Buffer.from(body), headers: {} })).status, 200);
    }
    await servingLog.close();

    // Races: a populate of the old value fired again and again while the erase runs (and once after it),
    // and a materialization of the same range in another process.
    const stale = new EntryLifetime(60).populate(keys().entry(ref, subjectKey), before[0]);
    let erasing = true;
    const populates = (async () => {
      let n = 0;
      while (erasing) {
        await online.cache.populate([stale]);
        n++;
        await sleep(2);
      }
      return n;
    })();
    const materializer = FeatureStore.open(dir).then(async (other) => {
      try {
        return await other.materialize({ start: new Date(now - 100 * HOUR), end: new Date(now) });
      } finally {
        await other.close();
      }
    });
    const erased = cliJson<ErasureRecord>(["-C", dir, "erase", "--entity", `customer_id=${SUBJECT}`, "--reason", "GDPR art. 17"]);
    const [receipt] = await Promise.all([erased, materializer]).finally(() => (erasing = false));
    assert.ok((await populates) > 0, "populates ran during the erase");
    await online.cache.populate([stale]); // an in-flight populate landing after the erase

    const count = (copy: string): number => receipt.steps.filter((s) => s.copy === copy).reduce((n, s) => n + s.count, 0);
    assert.equal(receipt.status, "done");
    assert.deepEqual([...receipt.views].sort(), ["customer_activity", "customer_merchant", "customer_profile"]);
    assert.ok(count("durable-online-store") >= 1 + 3, `durable records removed: profile, 3 merchants, activity state (${count("durable-online-store")})`);
    assert.equal(count("offline-store"), 12 + 12 + 5, "offline rows: 12 profile, 12 customer × merchant, 5 events");
    assert.ok(count("cache") >= 4);
    assert.equal(count("serving-log"), 2, "the subject's two logged response rows");
    assert.equal(count("dead-letters"), 1, "the subject's malformed event");

    // A replay of the whole stream after the erase: the subject's events are dropped, the others' counted again.
    await publishAll();
    await caughtUp();
    await sleep(800);
    const metrics = await (await fetch(`${processor.url}/metrics`)).text();
    assert.match(metrics, /strata_stream_erased_events_total\{view="customer_activity"\} 5\b/, "the subject's 5 replayed events were dropped and counted");
    await processor.stop();
    processor = undefined;

    // Online: nothing for the subject, from the cache or the durable store, in any view.
    const { result } = await online.read({ features: ["customer_profile:spend", "customer_activity:amount_sum_1d", "customer_activity:count_1d"] }, { customer_id: [SUBJECT, OTHERS[0]] });
    assert.deepEqual(result.columns.map((c) => c.statuses[0]), ["NOT_FOUND", "NULL_VALUE", "PRESENT"]);
    assert.deepEqual(result.columns.map((c) => c.values[0]), [null, null, 0], "an erased aggregation key reads as an empty window");
    assert.equal(Number(result.columns[2]!.values[1]), 10, "another customer's events were counted (twice: the replay is not late)");
    const consumer = `strata_${store.config.project}_customer_activity_v1`.replace(/[^A-Za-z0-9_-]/g, "_");
    const saved = await online.durable.loadCheckpoint(consumer);
    assert.equal(saved?.deadLetters, 2, "only the two malformed events: the subject's replayed events were dropped by the boundary, not refused as late");
    const letters = await online.durable.deadLetters(consumer, 0, 100);
    assert.deepEqual(letters.map((d) => d.payload), ["!erased", `{"customer_id":"${OTHERS[0]!}","amount":`], "the subject's payload erased (its row kept, so a replay skips it), the other's untouched");
    const [cachedAfter] = await online.cache.getMany([keys().entry(ref, subjectKey)]);
    const entry = decodeEntry(cachedAfter!, subjectKey);
    assert.ok(entry?.record != null && isTombstone(entry.record), "the cache holds the tombstone, not the populated old value");

    // Offline: training sets see nothing of the subject; others untouched.
    const set = await store.getHistoricalFeatures({ entities: [{ customer_id: SUBJECT, event_timestamp: new Date(now) }, { customer_id: OTHERS[1], event_timestamp: new Date(now) }], features: ["customer_profile:spend"] });
    const rows = await set.toRows();
    await set.close();
    assert.equal(rows[0]!.spend, null);
    assert.notEqual(rows[1]!.spend, null);
    const othersAfter = await rowsPerCustomer(store, "customer_profile");
    assert.equal(othersAfter.get(SUBJECT), undefined);
    for (const c of OTHERS) assert.equal(othersAfter.get(c), othersBefore.get(c), `${c}'s rows are untouched`);
    assert.equal(othersAfter.get("cust-bystander"), 1);

    const verify = await runCli(["-C", dir, "erase", "--verify", `customer_id=${SUBJECT}`, "--json"]);
    assert.equal(verify.code, 0, verify.stderr + verify.stdout);
    const report = JSON.parse(verify.stdout) as { clean: boolean; remaining: { copy: string; count: number }[] };
    assert.equal(report.clean, true, verify.stdout);
    assert.deepEqual([...new Set(report.remaining.map((r) => r.copy))].sort(), ["cache", "dead-letters", "durable-online-store", "offline-store", "serving-log", "streaming-state"]);
    assert.deepEqual(await filesHoldingBytes(store.config.offline.path, SUBJECT), [], "no file of the offline store holds the subject's bytes");
    assert.deepEqual(await offlineFilesMentioning(await store.engine(), store.config.offline.path, SUBJECT), [], "no decoded row mentions the subject");

    // The audit log records the erasure without naming the subject.
    const audit = (await store.registry.auditRows()).map((r) => r.entry);
    assert.ok(audit.some((e) => e.includes('"action":"erase"')));
    assert.ok(!audit.some((e) => e.includes(SUBJECT)), "the audit log names the subject only by hash");

    // Idempotent: erasing again finds nothing.
    const again = await cliJson<ErasureRecord>(["-C", dir, "erase", "--entity", `customer_id=${SUBJECT}`]);
    assert.deepEqual(again.steps.filter((s) => s.copy !== "cache").map((s) => s.count), again.steps.filter((s) => s.copy !== "cache").map(() => 0));
  }
});
