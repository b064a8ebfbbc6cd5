/**
 * The stream processor alone: the real StreamProcessor on the embedded SQLite store, in this
 * process, fed generated messages (the aggregation benchmark's view and key hash; no NATS), so
 * the main thread's own cost per event is measured without the server's share of two cores.
 * Commits every --commit-every events, as the NATS runner does every checkpoint interval while behind.
 * With --event-log, accepted events are also appended to the view's offline event log (DuckDB,
 * as `strata stream run` does, at its default batch size): the processor's whole cost without
 * nats-server, what it would use with the server on other cores.
 * The reference, in the same run: decoding the same messages with the view's decoder, which
 * any processor pays. Prints events/s, µs per event (main thread, process CPU), the ratio to
 * the reference and peak memory.
 *
 *   npm run bench:stream-processor -- [--events 3000000] [--keys 100000] [--commit-every 500000] [--event-log]
 */
import { parseArgs } from "node:util";
import { batchSource, collectDefinitions, compileDefinitions } from "../src/index.js";
import { RateLimiter } from "../src/stream/rate-limiter.js";
import { StreamProcessor, type StreamMessage } from "../src/stream/stream-processor.js";
import { eventDecoder } from "../src/stream/event-decoder.js";
import { floatPool } from "../src/aggregation/float-pool.js";
import { openProject } from "../test/helpers/project.js";
import { bulkBaseMicros, bulkEventMs, cardActivity, cardEvent } from "./lib/card-activity.js";
import { projectConfigSchema } from "../src/config/project-config.js";
import { latestVersion } from "../src/registry/registry-records.js";

const { values: args } = parseArgs({
  options: {
    events: { type: "string", default: "3000000" },
    keys: { type: "string", default: "100000" },
    "commit-every": { type: "string", default: "500000" },
    "event-log": { type: "boolean", default: false },
  },
});
const total = Number(args.events);
const keys = Number(args.keys);
const commitEvery = Number(args["commit-every"]);
const BATCH = 5000; // the runner's default batch size

const { store } = await openProject({ config: { project: "bench" } });
await store.apply(compileDefinitions(collectDefinitions({ v: cardActivity(batchSource({ path: "tx.parquet", timestampField: "ts" })) })));
const online = await store.online({ role: "batch" });
const target = await online.target("card_activity");
const base = bulkBaseMicros();
const batchOf = (from: number): StreamMessage[] => {
  const messages: StreamMessage[] = [];
  for (let i = from; i < Math.min(total, from + BATCH); i++) messages.push({ seq: i + 1, arrivedMicros: Date.now() * 1000, data: cardEvent(i, keys, bulkEventMs(i, base)) });
  return messages;
};

/**
 * Runs `work` over every batch, then `finish`; returns main-thread seconds spent in both (message
 * making excluded) and process CPU seconds.
 */
async function measure(work: (batch: StreamMessage[], from: number) => Promise<void>, finish = (): Promise<void> => Promise.resolve()): Promise<{ main: number; cpu: number }> {
  let main = 0;
  const cpu = process.cpuUsage();
  const timed = async (step: () => Promise<void>): Promise<void> => {
    const started = performance.now();
    await step();
    main += (performance.now() - started) / 1000;
  };
  for (let i = 0; i < total; i += BATCH) {
    const batch = batchOf(i);
    await timed(() => work(batch, i));
  }
  await timed(finish);
  const used = process.cpuUsage(cpu);
  return { main, cpu: (used.user + used.system) / 1e6 };
}

const eventLog = args["event-log"];
console.log(`stream processor benchmark: ${total.toLocaleString()} events over ${keys.toLocaleString()} hashed keys, a commit every ${commitEvery.toLocaleString()} events, in process (no NATS)${eventLog ? ", appending the event log" : ""}\n`);

const decode = eventDecoder(target.spec);
const floor = await measure((batch) => {
  for (const m of batch) decode(m.data);
  return Promise.resolve();
});

const streamDefaults = projectConfigSchema.shape.stream.parse(undefined);
const record = latestVersion(await store.snapshot(), "card_activity")!;
let logged = 0;
const processor = new StreamProcessor({
  target,
  consumer: "bench",
  durable: online.durable,
  writer: online.writer,
  limiter: new RateLimiter(1e9),
  // Without --event-log the lines are built, not written: DuckDB's share is left out.
  appendOffline: eventLog ? (lines, label) => store.ingestEventLines(record, lines, label).then((report) => void (logged += report.rows)) : () => Promise.resolve(),
  offlineUpTo: 0,
  offlineFlushEvents: eventLog ? streamDefaults.offlineFlushEvents : 1e9,
  offlineFlushMs: eventLog ? streamDefaults.offlineFlushMs : 1e9,
});
await processor.start();
const wallStarted = performance.now();
// Commits run alongside applying, one at a time, as in the runner.
let committing: Promise<void> = Promise.resolve();
const run = await measure(
  async (batch, from) => {
    await processor.applyBatch(batch);
    if (Math.floor((from + batch.length) / commitEvery) > Math.floor(from / commitEvery)) {
      await committing;
      committing = processor.flush();
    }
    await new Promise(setImmediate);
  },
  async () => {
    await committing;
    await processor.flush(true); // the last commit's folding and encoding count too
  },
);
const wall = (performance.now() - wallStarted) / 1000;
const peakMb = process.resourceUsage().maxRSS / 1024;
await store.close();

const us = (seconds: number): string => ((seconds * 1e6) / total).toFixed(2);
console.log(`  decoding only (reference): ${us(floor.main)} µs/event on the main thread`);
console.log(`  stream processor: ${(total / wall / 1000).toFixed(1)}k events/s (wall, making the messages included); ${us(run.main)} µs/event on the main thread (applying and the commits' folding and encoding), ${us(run.cpu)} µs/event process CPU (with SQLite's commit thread${eventLog ? ", DuckDB's event-log appends" : ""} and the garbage collector)`);
const pool = floatPool.bytes;
console.log(`  main thread / reference: ${(run.main / floor.main).toFixed(1)}x; peak memory ${peakMb.toFixed(0)} MB, of which state tiles' slabs ${(pool.slabs / 2 ** 20).toFixed(0)} MB (${(pool.waiting / 2 ** 20).toFixed(0)} MB released, waiting for reuse)`);
console.log(`  applied ${processor.processed.toLocaleString()} of ${total.toLocaleString()}`);
if (processor.processed !== total) process.exitCode = 1;
if (eventLog) console.log(`  event log: ${logged.toLocaleString()} rows appended; checkpoint and event log hold every message up to ${processor.durableUpTo.toLocaleString()}`);
if (eventLog && (logged !== total || processor.durableUpTo !== total)) process.exitCode = 1;
