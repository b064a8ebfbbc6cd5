/**
 * Benchmark for aggregation views (issue: batch + streaming). In one run, on generated data:
 *   (1) streaming throughput: a JetStream stream pre-filled with --stream-events events over
 *       --keys keys, consumed by `strata stream run` (3 windows × 4 functions, checkpointing on):
 *       events/s and the processor's peak memory, against the reference of a bare consumer
 *       that only takes and acknowledges the same messages (bench/lib/bare-consumer.ts);
 *   (2) freshness (event time → committed online) at a steady --rate events/s, by the same
 *       processor once it has caught up: p50/p99 from its /metrics histogram;
 *   (3) a training set of --labels labels over --events events: Strata's tiled plan (CLI) against
 *       a plain DuckDB range-join query computing the same values, taking turns --batch-runs times
 *       (medians compared); rows compared.
 *
 *   npm run bench:aggregations -- [--events 50000000] [--labels 1000000] [--stream-events 5000000] [--keys 100000] [--rate 20000] [--warmup-seconds 5] [--steady-seconds 20] [--batch-runs 3] [--no-stream] [--no-batch]
 */
import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { cpus } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { connect } from "nats";
import { batchSource, collectDefinitions, compileDefinitions, streamSource } from "../src/index.js";
import { FeatureStore } from "../src/feature-store.js";
import { DuckDb } from "../src/offline/duckdb.js";
import { strataBin, strataEnv } from "../test/helpers/cli.js";
import { natsServerVersion, startNats } from "../test/helpers/nats-server.js";
import { makeProject } from "../test/helpers/project.js";
import { freePort } from "../test/helpers/postgres-server.js";
import { bucketDelta, histogramQuantile, scrapeHistogram, shareAtMost, type Buckets } from "./lib/prometheus-histogram.js";
import { ensureOk, runMeasured } from "./lib/child-process.js";
import { generateEvents } from "./lib/generate-events.js";
import { peakRssMb } from "./lib/proc-memory.js";
import { cpuSeconds } from "./lib/proc-cpu.js";
import { aggregations, cardActivity as view, functions, windows } from "./lib/card-activity.js";
import { runBareConsumer } from "./lib/bare-consumer-run.js";
import { CARD_STREAM, CARD_SUBJECTS, prefillCardStream, publishCardEvent } from "./lib/prefill-card-stream.js";
import { median } from "./lib/median.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const dataRoot = join(repo, "bench", ".data", "aggregations");
const { values: args } = parseArgs({
  options: {
    events: { type: "string", default: "50000000" },
    labels: { type: "string", default: "1000000" },
    "stream-events": { type: "string", default: "5000000" },
    keys: { type: "string", default: "100000" },
    days: { type: "string", default: "30" },
    rate: { type: "string", default: "20000" },
    "steady-seconds": { type: "string", default: "20" },
    "warmup-seconds": { type: "string", default: "5" },
    "batch-runs": { type: "string", default: "3" },
    "no-stream": { type: "boolean", default: false },
    "no-batch": { type: "boolean", default: false },
  },
});
const n = (name: Exclude<keyof typeof args, "no-stream" | "no-batch">): number => Number(args[name]);
const FRESHNESS = "strata_stream_freshness_seconds";
const fmt = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : "n/a");

async function project(name: string, config: Record<string, unknown>, source: Parameters<typeof view>[0]): Promise<string> {
  const dir = join(dataRoot, name);
  await rm(dir, { recursive: true, force: true });
  await makeProject({ dir, config: { project: "bench", ...config } });
  const store = await FeatureStore.open(dir, { actor: "bench" });
  await store.apply(compileDefinitions(collectDefinitions({ v: view(source) })));
  await store.close();
  return dir;
}

console.log(`aggregations benchmark: 3 windows (${windows.join(", ")}) × 4 functions (${functions.join(", ")}); ${cpus().length} cores\n`);

// ---------------------------------------------------------------------------------------------
// (1) + (2) streaming
const nats = args["no-stream"] === true ? undefined : await startNats();
if (nats !== undefined) try {
  const streamDir = await project("stream", { stream: { nats: { url: nats.url } } }, streamSource({ nats: { stream: CARD_STREAM, subject: CARD_SUBJECTS }, timestampField: "ts", batch: batchSource({ path: "tx.parquet", timestampField: "ts" }) }));
  const nc = await connect({ servers: nats.url });
  const jsm = await nc.jetstreamManager();
  const total = n("stream-events");
  const keys = n("keys");
  const prefillSeconds = await prefillCardStream(nc, jsm, total, keys);
  console.log(`(1) streaming: ${total.toLocaleString()} events over ${keys.toLocaleString()} keys pre-filled into JetStream (nats-server ${natsServerVersion()}) in ${fmt(prefillSeconds, 1)} s`);
  const bare = await runBareConsumer(nats, { stream: CARD_STREAM, subject: CARD_SUBJECTS, count: total });
  console.log(
    `  reference, a bare consumer (takes and acknowledges only; the processor's transport and window): ${fmt(total / bare.seconds / 1000, 1)}k events/s; ` +
      `CPU per event ${fmt((1e6 * (bare.cpuSeconds + bare.natsCpuSeconds)) / total)} µs = consumer ${fmt((1e6 * bare.cpuSeconds) / total)} + nats-server ${fmt((1e6 * bare.natsCpuSeconds) / total)}`,
  );

  const store = await FeatureStore.open(streamDir, { actor: "bench" });
  const durable = (await store.online()).durable;
  const consumer = "strata_bench_card_activity_v1";
  const caughtUp = async (seq: number): Promise<void> => {
    while (((await durable.loadCheckpoint(consumer))?.seq ?? 0) < seq) await sleep(50);
  };
  // One processor for both phases: (2) measures a running processor, as a deployment sees it.
  const metricsPort = await freePort();
  // Started as users start it (bin/strata, with its node flags); BENCH_NODE_ARGS (e.g. --cpu-prof) profiles it.
  const env = { ...process.env, ...strataEnv, STRATA_NODE_ARGS: process.env.BENCH_NODE_ARGS ?? "" };
  const started = performance.now();
  const child = spawn(strataBin, ["-C", streamDir, "stream", "run", "--json", "--port", String(metricsPort)], { env, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  let peakMb = 0;
  const sampling = setInterval(() => (peakMb = Math.max(peakMb, peakRssMb(child.pid!))), 50);
  const natsCpuBefore = cpuSeconds(nats.pid()!);
  await caughtUp(total);
  const bulkSeconds = (performance.now() - started) / 1000;
  clearInterval(sampling);
  peakMb = Math.max(peakMb, peakRssMb(child.pid!));
  // Where the CPU went, per event: two cores shared by the processor's threads and nats-server cap the rate.
  // A process's main thread has the process's id as its thread id.
  const cpu = { main: cpuSeconds(child.pid!, child.pid), all: cpuSeconds(child.pid!), nats: cpuSeconds(nats.pid()!) - natsCpuBefore };
  const perEvent = (seconds: number): string => fmt((seconds * 1e6) / total);
  console.log(
    `  strata stream run: ${fmt(total / bulkSeconds / 1000, 1)}k events/s (${fmt(bulkSeconds, 1)} s incl. start-up; ${fmt(bare.seconds / bulkSeconds)} of the bare consumer's rate), peak memory ${fmt(peakMb, 0)} MB; target >= 200k events/s`,
  );
  console.log(
    `  CPU per event: ${perEvent(cpu.all + cpu.nats)} µs = processor main thread ${perEvent(cpu.main)} + its other threads (SQLite commits, garbage collector, DuckDB's event-log appends) ${perEvent(cpu.all - cpu.main)} + nats-server ${perEvent(cpu.nats)}; ` +
      `${fmt((cpu.all + cpu.nats) / bulkSeconds, 2)} of ${cpus().length} cores busy`,
  );

  const rate = n("rate");
  const steadySeconds = n("steady-seconds");
  const warmupSeconds = n("warmup-seconds");
  const steadyTotal = rate * (warmupSeconds + steadySeconds);
  // The checkpoint is committed before the commit's events are observed: wait for those too.
  const before = await freshnessObserved(metricsPort, total);
  // The first seconds at the steady rate overlap the end of the bulk (its last event-log append
  // runs on both cores): a warm-up at the same rate, reported apart, so (2) measures a steady state.
  let warm: Buckets = before;
  const steadyStarted = performance.now();
  for (let i = 0; i < steadyTotal; i++) {
    const wait = steadyStarted + (i / rate) * 1000 - performance.now();
    if (wait > 2) await sleep(wait);
    publishCardEvent(nc, i, keys, Date.now());
    if (i % 1000 === 999) await nc.flush();
    if (i === rate * warmupSeconds - 1) warm = await scrapeHistogram(`http://127.0.0.1:${metricsPort}/metrics`, FRESHNESS);
  }
  await nc.flush();
  await caughtUp(total + steadyTotal);
  const steady = bucketDelta(warm, await freshnessObserved(metricsPort, total + steadyTotal));
  const warmup = bucketDelta(before, warm);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
  const summary = (JSON.parse(out.trim() === "" ? "{}" : out) as { views?: Record<string, unknown>[] }).views?.[0];
  console.log(`  applied ${String(summary?.events)}, dead letters ${String(summary?.deadLetters)}`);
  const ms = (buckets: Buckets, q: number): string => fmt(histogramQuantile(buckets, q) * 1000, 0);
  console.log(
    `(2) freshness at a steady ${rate.toLocaleString()} events/s for ${steadySeconds} s: p50 ${ms(steady, 0.5)} ms, p99 ${ms(steady, 0.99)} ms, ${fmt(100 * shareAtMost(steady, 1), 1)}% within 1 s ` +
      `(event time → committed online, from the processor's /metrics histogram); target p99 <= 1000 ms\n` +
      `  after a ${warmupSeconds} s warm-up at the same rate right after the bulk: p50 ${ms(warmup, 0.5)} ms, p99 ${ms(warmup, 0.99)} ms\n`,
  );
  await store.close();
  await nc.close();
} finally {
  await nats.stop();
}

// ---------------------------------------------------------------------------------------------
// (3) training set: tiled plan vs a plain range join
if (args["no-batch"] === true) process.exit(0);
const duck = await DuckDb.open();
const size = { events: n("events"), keys: n("keys"), days: n("days"), labels: n("labels") };
const data = await generateEvents(duck, join(dataRoot, `data-${size.events}-${size.labels}-${size.keys}-${size.days}`), size);
const batchDir = await project("batch", {}, batchSource({ path: data.events, timestampField: "ts", createdTimestampField: "created" }));
let started = performance.now();
const ingest = await runMeasured(strataBin, ["-C", batchDir, "ingest", "card_activity", "--json"], { timeoutSeconds: 3600, env: strataEnv });
ensureOk("ingest", ingest);
console.log(`(3) training set: ${size.labels.toLocaleString()} labels over ${size.events.toLocaleString()} events (${size.keys.toLocaleString()} keys, ${size.days} days)`);
console.log(`  ingest into the event log                      ${fmt((performance.now() - started) / 1000).padStart(8)} s`);
started = performance.now();
const backfill = await runMeasured(strataBin, ["-C", batchDir, "backfill", "card_activity", "--json"], { timeoutSeconds: 3600, env: strataEnv });
ensureOk("backfill", backfill);
const backfillSeconds = (performance.now() - started) / 1000;
console.log(`  strata backfill (day blocks, once)             ${fmt(backfillSeconds).padStart(8)} s`);
const out = join(dataRoot, "train.parquet");
const features = aggregations.map((a) => `card_activity:${a.column === "*" ? "" : `${a.column}_`}${a.function}_${a.window}`);
const log = join(batchDir, ".strata", "offline", "card_activity", "v1", "date=*", "*.parquet");
const hop = (w: string): number => (w === "1h" ? 300 : 3600) * 1_000_000;
const seconds = (w: string): number => ({ "1h": 3600, "1d": 86_400, "7d": 604_800 })[w as "1h"] * 1_000_000;
const start = (w: string): string => `(lab.t - ${seconds(w)}) - ((lab.t - ${seconds(w)}) % ${hop(w)})`;
const columns = windows.flatMap((w) => [
  `count(ev.ts) FILTER (WHERE ev.ts >= ${start(w)}) AS count_${w}`,
  `sum(ev.amount) FILTER (WHERE ev.ts >= ${start(w)}) AS amount_sum_${w}`,
  `max(ev.amount) FILTER (WHERE ev.ts >= ${start(w)}) AS amount_max_${w}`,
  `avg(ev.amount) FILTER (WHERE ev.ts >= ${start(w)}) AS amount_mean_${w}`,
]);
const reference =
  `CREATE TABLE ref AS WITH lab AS (SELECT file_row_number AS rid, card_id, epoch_us(event_timestamp) AS t FROM read_parquet('${data.labels}', file_row_number = true)), ` +
  `ev AS (SELECT card_id, epoch_us(event_timestamp) AS ts, amount FROM read_parquet('${log}')) ` +
  `SELECT lab.rid, ${columns.join(", ")} FROM lab LEFT JOIN ev ON ev.card_id = lab.card_id AND ev.ts < lab.t AND ev.ts >= ${start("7d")} GROUP BY lab.rid`;
// The two plans take turns, so a slow spell of this shared machine falls on both; medians are compared.
const tiledRuns: number[] = [];
const referenceRuns: number[] = [];
let peakMb = 0;
for (let run = 0; run < n("batch-runs"); run++) {
  const tiled = await runMeasured(strataBin, ["-C", batchDir, "training-set", "--entities", data.labels, "--features", features.join(","), "--out", out, "--json"], { timeoutSeconds: 3600, env: strataEnv });
  ensureOk("training set", tiled);
  tiledRuns.push(Number(tiled.report?.seconds));
  peakMb = Math.max(peakMb, Number(tiled.report?.peakRssMb));
  await duck.run("DROP TABLE IF EXISTS ref");
  started = performance.now();
  await duck.run(reference);
  referenceRuns.push((performance.now() - started) / 1000);
}
const [tiledSeconds, referenceSeconds] = [median(tiledRuns), median(referenceRuns)];
const runs = (xs: readonly number[]): string => `(runs: ${xs.map((x) => fmt(x)).join(", ")})`;
console.log(`  strata training-set (day blocks), median       ${fmt(tiledSeconds).padStart(8)} s  ${fmt(peakMb, 0)} MB peak  ${runs(tiledRuns)}`);
console.log(`  DuckDB range join (the same values), median    ${fmt(referenceSeconds).padStart(8)} s  ${runs(referenceRuns)}`);
const names = windows.flatMap((w) => [`count_${w}`, `amount_sum_${w}`, `amount_max_${w}`, `amount_mean_${w}`]);
const differ = names.map((c) => `(s.${c} IS DISTINCT FROM r.${c} AND NOT (abs(s.${c} - r.${c}) <= 1e-9 * greatest(abs(s.${c}), abs(r.${c}))))`).join(" OR ");
const [cmp] = await duck.rows(`SELECT count(*) AS rows, count(*) FILTER (WHERE ${differ}) AS differing FROM (SELECT file_row_number AS rid, * FROM read_parquet('${out}', file_row_number = true)) s JOIN ref r USING (rid)`);
console.log(`  rows compared ${String(cmp?.rows)}, differing ${String(cmp?.differing)}`);
console.log(`  day blocks / range join: ${fmt(referenceSeconds / tiledSeconds, 1)}x faster (target >= 5x); with the one-time backfill: ${fmt(referenceSeconds / (tiledSeconds + backfillSeconds), 1)}x`);
duck.close();

/** The freshness histogram once it holds at least `events` observations. */
async function freshnessObserved(port: number, events: number): Promise<Buckets> {
  for (;;) {
    const buckets = await scrapeHistogram(`http://127.0.0.1:${port}/metrics`, FRESHNESS);
    if ((buckets.get(Infinity) ?? 0) >= events) return buckets;
    await sleep(20);
  }
}
