/**
 * Benchmark for the serving log (issue: governance). Two feature servers over the same data
 * (one view of 10 features; a Redis cache warmed by materialization, as in bench:online-serving,
 * or with --cache memory the in-process cache, the cheapest request there is and so the log's
 * worst case): one with the serving log off, one logging 100% of the `ranking` service's responses. Single-entity
 * requests over 127.0.0.1 from oha at a fixed concurrency, the two servers alternating for
 * --rounds rounds of --seconds each (this 2-core machine is noisy; alternating spreads the noise
 * evenly; the next round starts once the log has written every row served, so its writer's work
 * counts against its own rounds). Prints throughput and p50/p99 of each, the throughput loss against the ≤ 10% target
 * (over all rounds, and the median of the rounds' own losses, which one disturbed round moves less),
 * each server's CPU time per request (what the log costs, less moved by the noise), the rows the
 * log wrote (checked against its files), and the servers' peak memory.
 *
 *   npm run bench:serving-log -- [--entities 100000] [--seconds 4] [--rounds 12] [--concurrency 64] [--cache redis|memory]
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { batchSource, collectDefinitions, compileDefinitions, entity, featureService, featureView, Float32, Int64, String as StringType, type ValueType } from "../src/index.js";
import { FeatureStore } from "../src/feature-store.js";
import { DuckDb } from "../src/offline/duckdb.js";
import { ServingLogLayout } from "../src/serving-log/serving-log-layout.js";
import { makeProject } from "../test/helpers/project.js";
import { startRedis } from "../test/helpers/redis-server.js";
import { startServerProcess, type ServerProcess } from "../test/helpers/server-process.js";
import { oha, type LoadResult } from "./lib/oha.js";
import { cpuSeconds } from "./lib/proc-cpu.js";
import { peakRssMb } from "./lib/proc-memory.js";
import { median } from "./lib/median.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const root = join(repo, "bench", ".data", "serving-log");
const { values: args } = parseArgs({
  options: {
    entities: { type: "string", default: "100000" },
    seconds: { type: "string", default: "4" },
    rounds: { type: "string", default: "12" },
    concurrency: { type: "string", default: "64" },
    cache: { type: "string", default: "redis" },
  },
});
const entities = Number(args.entities);
const seconds = Number(args.seconds);
const rounds = Number(args.rounds);
const concurrency = Number(args.concurrency);
const FEATURES = Array.from({ length: 10 }, (_, i) => `f${i + 1}`);
const typeOf = (i: number): ValueType => (i < 4 ? Float32 : i < 7 ? Int64 : StringType);

/** Every entity once, event times in the last hour: 4 floats, 3 ints, 3 strings (as bench:online-serving). */
async function generate(file: string): Promise<void> {
  const duck = await DuckDb.open();
  try {
    await duck.run(`COPY (SELECT i::BIGINT AS driver_id, now() - to_seconds((hash(i) % 3600)::BIGINT) AS event_timestamp, event_timestamp AS created_timestamp,
      ${FEATURES.slice(0, 4).map((n, j) => `(hash(i * ${j + 2}) % 10000 / 10000.0)::FLOAT AS ${n}`).join(", ")},
      ${FEATURES.slice(4, 7).map((n, j) => `(hash(i * ${j + 7}) % 100000)::BIGINT AS ${n}`).join(", ")},
      ${FEATURES.slice(7).map((n, j) => `'city_' || (hash(i * ${j + 11}) % 500)::VARCHAR AS ${n}`).join(", ")}
      FROM range(${entities}) t(i)) TO '${file}' (FORMAT parquet)`);
  } finally {
    duck.close();
  }
}

/** A project over the data, applied, ingested and materialized; `servingLog` as given. */
async function project(name: string, data: string, servingLog: Record<string, unknown>, cache: Record<string, unknown>): Promise<string> {
  const dir = join(root, name);
  // Each project its own key prefix: the two servers share the Redis but not its keys.
  await makeProject({ dir, config: { project: name.replace("-", "_"), servingLog, online: { type: "sqlite", cache } } });
  const store = await FeatureStore.open(dir, { actor: "bench" });
  try {
    const driver = entity({ name: "driver", joinKeys: ["driver_id"] });
    const schema = Object.fromEntries(FEATURES.map((n, i): [string, ValueType] => [n, typeOf(i)]));
    const stats = featureView({ name: "driver_stats", entities: [driver], ttl: "1d", schema, source: batchSource({ path: data, timestampField: "event_timestamp", createdTimestampField: "created_timestamp" }) });
    await store.apply(compileDefinitions(collectDefinitions({ stats, ranking: featureService({ name: "ranking", features: [stats] }) })));
    await store.ingest("driver_stats");
    await store.materialize({ end: new Date(Date.now() + 60_000) });
  } finally {
    await store.close();
  }
  return dir;
}

const metric = async (server: ServerProcess, name: string): Promise<number> => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(await (await fetch(`${server.url}/metrics`)).text())?.[1] ?? 0);
const ok = (r: LoadResult): number => r.statuses["200"] ?? 0;
/** Waits until the server has logged `rows` rows in all; how long that took (ms). */
async function loggedUpTo(server: ServerProcess, rows: number): Promise<number> {
  const start = performance.now();
  while ((await metric(server, "strata_serving_log_rows_total")) < rows) {
    if (performance.now() - start > 30_000) throw new Error(`the serving log did not catch up with ${rows} rows within 30 s`);
    await sleep(50);
  }
  return performance.now() - start;
}
const line = (label: string, runs: readonly LoadResult[], extra = ""): void => {
  const requests = runs.reduce((s, r) => s + ok(r), 0);
  const rps = requests / (runs.length * seconds);
  console.log(`  ${label.padEnd(26)} ${rps.toFixed(0).padStart(7)} req/s  p50 ${median(runs.map((r) => r.p50Ms)).toFixed(2).padStart(5)} ms  p99 ${median(runs.map((r) => r.p99Ms)).toFixed(2).padStart(6)} ms  (${requests.toLocaleString()} requests)${extra}`);
};

await rm(root, { recursive: true, force: true });
await mkdir(root, { recursive: true });
const data = join(root, "driver_stats.parquet");
await generate(data);
if (args.cache !== "redis" && args.cache !== "memory") throw new Error(`--cache is redis or memory, got ${args.cache}`);
const redis = args.cache === "redis" ? await startRedis() : undefined;
const cache = redis === undefined ? { type: "memory" } : { type: "redis", url: redis.url };
const servers: ServerProcess[] = [];
try {
  const offDir = await project("log-off", data, {}, cache);
  const onDir = await project("log-on", data, { services: { ranking: 1 } }, cache);
  console.log(`serving-log benchmark: ${entities.toLocaleString()} entities × 10 features, ${args.cache} cache; oha, ${concurrency} connections, single-entity /get-online-features of the "ranking" service; ${rounds} alternating rounds of ${seconds} s; 2 cores shared by servers and load\n`);
  const off = await startServerProcess(offDir);
  servers.push(off);
  const on = await startServerProcess(onDir);
  servers.push(on);
  const body = JSON.stringify({ feature_service: "ranking", entities: { driver_id: [4242] } });
  const url = (s: ServerProcess): string => `${s.url}/get-online-features`;
  await oha(url(off), body, { seconds: 3, concurrency }); // warm-up: JIT, connections, the cache
  const warmUp = await oha(url(on), body, { seconds: 3, concurrency });
  await loggedUpTo(on, ok(warmUp)); // the warm-up's rows written
  const rowsBefore = await metric(on, "strata_serving_log_rows_total");
  const results: { off: LoadResult[]; on: LoadResult[] } = { off: [], on: [] };
  const catchUps: number[] = [];
  const cpu = { off: 0, on: 0 };
  for (let round = 0; round < rounds; round++) {
    // Alternate who goes first, so drift over the run (thermal, other tenants) hits both alike.
    for (const which of round % 2 === 0 ? (["off", "on"] as const) : (["on", "off"] as const)) {
      const server = which === "off" ? off : on;
      const cpuBefore = cpuSeconds(server.child.pid!);
      results[which].push(await oha(url(server), body, { seconds, concurrency }));
      // The log's work left after a round would otherwise run during the other server's round, charged to it.
      if (which === "on") catchUps.push(await loggedUpTo(on, rowsBefore + results.on.reduce((s, r) => s + ok(r), 0)));
      cpu[which] += cpuSeconds(server.child.pid!) - cpuBefore;
    }
  }
  const served = results.on.reduce((s, r) => s + ok(r), 0);
  const rows = (await metric(on, "strata_serving_log_rows_total")) - rowsBefore;
  const dropped = await metric(on, 'strata_serving_log_dropped_total\\{reason="buffer_full"\\}');
  const files = await metric(on, "strata_serving_log_files_total");
  const logFiles = await new ServingLogLayout(join(onDir, ".strata", "offline")).partFiles();
  const duck = await DuckDb.open();
  const [inFiles] = await duck.rows(`SELECT count(*) AS n FROM read_parquet([${logFiles.map((f) => `'${f}'`).join(", ")}])`);
  duck.close();

  const rate = (runs: LoadResult[]): number => runs.reduce((s, r) => s + ok(r), 0) / (runs.length * seconds);
  const loss = (1 - rate(results.on) / rate(results.off)) * 100;
  const medianLoss = median(results.on.map((r, i) => (1 - ok(r) / ok(results.off[i]!)) * 100));
  console.log("single entity (10 features), fixed concurrency:");
  line("serving log off", results.off);
  line("serving log on, 100%", results.on);
  console.log(`  throughput loss with the log on: ${loss.toFixed(1)}% over all rounds, ${medianLoss.toFixed(1)}% the median round (target <= 10%): ${loss <= 10 ? "met" : "NOT met"}`);
  console.log(`  per round (off / on req/s): ${results.off.map((r, i) => `${(ok(r) / seconds).toFixed(0)} / ${(ok(results.on[i]!) / seconds).toFixed(0)}`).join(", ")}`);
  const everyResponse = Number(inFiles?.n) === ok(warmUp) + served;
  const cpuPerRequest = (which: "off" | "on"): number => (cpu[which] * 1e6) / results[which].reduce((s, r) => s + ok(r), 0);
  console.log(`  server CPU per request (all threads; steadier than throughput on a shared machine): off ${cpuPerRequest("off").toFixed(1)} µs, on ${cpuPerRequest("on").toFixed(1)} µs (+${((cpuPerRequest("on") / cpuPerRequest("off") - 1) * 100).toFixed(1)}%)`);
  console.log(`  the log wrote every row served within ${Math.max(...catchUps).toFixed(0)} ms of a round's end (median ${median(catchUps).toFixed(0)} ms); the next round waited for it`);
  console.log(`\nserving log: ${rows.toLocaleString()} rows logged for ${served.toLocaleString()} responses measured; ${Number(inFiles?.n).toLocaleString()} rows in ${logFiles.length} files (${files} written) for ${(ok(warmUp) + served).toLocaleString()} responses with the warm-up: ${everyResponse ? "every response logged" : "MISMATCH"}; ${dropped} dropped (buffer full)`);
  console.log(`peak memory: server with the log off ${peakRssMb(off.child.pid!).toFixed(0)} MB, on ${peakRssMb(on.child.pid!).toFixed(0)} MB`);
} finally {
  for (const s of servers) await s.stop();
  await redis?.stop();
}
