import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { connect, type NatsConnection } from "nats";
import { hopGroups } from "../../src/aggregation/tile-partials.js";
import { KeyState } from "../../src/aggregation/tile-state.js";
import { aggregationView, batchSource, collectDefinitions, compileDefinitions, entity, Float64, Int64, streamSource } from "../../src/index.js";
import { FeatureStore } from "../../src/feature-store.js";
import { readCommits } from "../../src/offline/commit-log.js";
import { ViewVersionLayout } from "../../src/offline/offline-layout.js";
import type { AggregateSpec } from "../../src/definitions/specs.js";
import { startCliProcess, type CliProcess } from "../helpers/server-process.js";
import { startNats, type NatsServer } from "../helpers/nats-server.js";
import { makeProject } from "../helpers/project.js";
import { sameValue, windowValue, type OracleEvent } from "../helpers/window-oracle.js";

const MIN = 60_000_000;
const LATENESS_MIN = 5;
const EVENTS = 4000;
const KEYS = 40;
const CONSUMER = "strata_test_project_card_activity_v1";

/** The events as published, in stream order, with what the processor must decide: accepted or late. */
function generate(base: number): { payloads: string[]; accepted: OracleEvent[]; late: number; malformed: number } {
  let seed = 7;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const payloads: string[] = [];
  const accepted: OracleEvent[] = [];
  let maxTs = -Infinity;
  let late = 0;
  let malformed = 0;
  for (let i = 0; i < EVENTS; i++) {
    if (i % 997 === 500) {
      payloads.push('{"card_id": "not a number"');
      malformed++;
      continue;
    }
    // Mostly in order, some out of order within the lateness, a few beyond it.
    const jitter = random() < 0.05 ? -(LATENESS_MIN + 1 + random() * 20) * MIN : -random() * 3 * MIN;
    const ts = Math.round(base + i * 3_000_000 + jitter); // 3 s apart: unique times, so `last` has no ties
    const card = 1 + Math.floor(random() * KEYS);
    const amount = Math.round(random() * 10_000) / 100;
    const qty = Math.floor(random() * 10);
    payloads.push(JSON.stringify({ card_id: card, ts: new Date(ts / 1000).toISOString(), amount, qty }));
    const watermark = maxTs - LATENESS_MIN * MIN;
    if (ts < watermark) late++;
    else {
      maxTs = Math.max(maxTs, ts);
      accepted.push({ key: String(card), ts, cr: i, values: { amount, qty } });
    }
  }
  return { payloads, accepted, late, malformed };
}

/**
 * `strata stream run` against a real nats-server (JetStream): killed with SIGKILL at random
 * points and restarted, while nats-server itself restarts once; in the end the online values, the
 * offline event log (through a training set) and the dead-letter count equal the oracle's: no
 * event counted twice, none lost.
 */
describe("stream processor: kill -9, restarts, and a NATS restart", () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let dir: string;
  const base = (Math.floor(Date.now() / 3_600_000) - 6) * 3_600_000_000; // µs, a whole hour, 6 h ago
  let processor: CliProcess | undefined;

  before(async () => {
    nats = await startNats();
    dir = await makeProject({ config: { stream: { nats: { url: nats.url }, flushIntervalMs: 100, flushEvents: 300, offlineFlushMs: 700 } } });
    const store = await FeatureStore.open(dir);
    const card = entity({ name: "card", joinKeys: ["card_id"], valueType: Int64 });
    const view = aggregationView({
      name: "card_activity",
      entities: [card],
      schema: { amount: Float64, qty: Int64 },
      source: streamSource({ nats: { stream: "tx", subject: "tx.*" }, timestampField: "ts", batch: batchSource({ path: "tx.parquet", timestampField: "ts" }) }),
      aggregations: [
        { column: "*", function: "count", window: "30m" },
        { column: "amount", function: "sum", window: "1h" },
        { column: "amount", function: "max", window: "2h", hop: "10m" },
        { column: "qty", function: "last", window: "3h", hop: "1h" },
      ],
      allowedLateness: `${LATENESS_MIN}m`,
    });
    await store.apply(compileDefinitions(collectDefinitions({ view })));
    await store.close();
    nc = await connect({ servers: nats.url });
    await (await nc.jetstreamManager()).streams.add({ name: "tx", subjects: ["tx.*"] });
  });
  after(async () => {
    await processor?.kill();
    await nc?.close();
    await nats?.stop();
  });

  const startProcessor = async (): Promise<CliProcess> => (processor = await startCliProcess(["-C", dir, "stream", "run", "--port", "0"]));

  it("ends with exactly the oracle's values, event log and dead letters", async () => {
    const { payloads, accepted, late, malformed } = generate(base);
    let child = await startProcessor();
    const publish = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) {
        await nc.jetstream().publish(`tx.${i % 3}`, new TextEncoder().encode(payloads[i]));
        if (i % 100 === 99) await sleep(100);
      }
    };
    let publishing = publish(0, EVENTS / 2);
    const watcher = await FeatureStore.open(dir);
    const checkpointSeq = async (): Promise<number> => (await (await watcher.online()).durable.loadCheckpoint(CONSUMER))?.seq ?? 0;
    const killedAt: number[] = [];
    for (let round = 0; round < 4; round++) {
      // Kill only once this run has committed something new: the kills land mid-stream, between commits.
      const before = await checkpointSeq();
      const until = Date.now() + 10_000;
      while ((await checkpointSeq()) === before && Date.now() < until) await sleep(20);
      await sleep(Math.floor(Math.random() * 150));
      await child.kill();
      killedAt.push(await checkpointSeq());
      if (round === 1) {
        await publishing; // the first half is in the stream; NATS restarts, then the second half follows
        await nats.restart();
        await nc.close();
        nc = await connect({ servers: nats.url });
        publishing = publish(EVENTS / 2, EVENTS);
      }
      child = await startProcessor();
    }
    await watcher.close();
    await publishing;
    // Let it finish: the checkpoint reaches the last message.
    const store = await FeatureStore.open(dir);
    const online = await store.online();
    const lastSeq = (await (await nc.jetstreamManager()).streams.info("tx")).state.last_seq;
    const deadline = Date.now() + 60_000;
    let saved;
    let logged = 0;
    // Caught up: the state checkpoint and the event log (appended in larger batches) both reach the last message.
    while (Date.now() < deadline) {
      saved = await online.durable.loadCheckpoint(CONSUMER);
      logged = Math.max(0, ...(await readCommits(new ViewVersionLayout(store.config.offline.path, "card_activity", 1))).map((c) => Number(/-(\d+)$/.exec(c.source)?.[1] ?? 0)));
      if (saved?.seq === lastSeq && logged === lastSeq) break;
      await sleep(200);
    }
    console.log(`killed at checkpoints ${killedAt.join(", ")}; caught up ${(60_000 - (deadline - Date.now())) / 1000}s after publishing ended; checkpoint ${saved?.seq} of ${lastSeq}`);
    await child.stop();
    assert.equal(saved?.seq, lastSeq, "the processor caught up with the stream");
    assert.equal(logged, lastSeq, "the event log caught up with the stream");
    assert.ok(killedAt.some((seq) => seq > 0 && seq < lastSeq), `killed mid-stream (checkpoints at the kills: ${killedAt.join(", ")})`);
    assert.equal(saved?.deadLetters, late + malformed, `dead letters: ${late} late + ${malformed} malformed`);

    const record = (await store.snapshot()).views.find((v) => v.name === "card_activity")!;
    const aggregates = record.spec.aggregation!.aggregates;
    const groups = hopGroups(aggregates);
    const readAt = base + EVENTS * 3_000_000 + 7 * MIN; // after the last event: every window is whole tiles
    const keys = Array.from({ length: KEYS }, (_, i) => String(i + 1));
    const stored = await online.durable.readStates({ view: "card_activity", version: 1 }, keys);
    assert.ok(stored.some((r) => r?.sealed !== undefined), "some states are stored as a head and sealed tiles, so restarts read both");
    const labels = keys.map((k) => ({ card_id: Number(k), event_timestamp: new Date(readAt / 1000) }));
    const set = await store.getHistoricalFeatures({ entities: labels, features: aggregates.map((a: AggregateSpec) => `card_activity:${a.name}`) });
    const batch = await set.toRows();
    await set.close();
    keys.forEach((key, i) => {
      const state = KeyState.decode(groups, stored[i]!.values, stored[i]!.sealed).valuesAt(readAt);
      for (const a of aggregates) {
        const expected = windowValue(accepted, key, readAt, a);
        assert.ok(sameValue(state[a.name], expected, 1e4), `online ${key} ${a.name}: ${String(state[a.name])} vs ${String(expected)}`);
        assert.ok(sameValue(batch[i]![a.name], expected, 1e4), `event log ${key} ${a.name}: ${String(batch[i]![a.name])} vs ${String(expected)}`);
      }
    });
    await store.close();
  });
});
