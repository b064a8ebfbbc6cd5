/**
 * Benchmark for online serving (issue: online serving). 100k entities in 3 views of 10 features,
 * Redis cache warmed by materialization. In one run:
 *   (1) single-entity requests over HTTP at a fixed concurrency: Strata; redis-benchmark MGET of
 *       10 keys (the limit of this machine's Redis); Feast 0.67's Python feature server over the
 *       same data in the same Redis; plus Strata at a fixed 5,000 requests/s;
 *   (2) batches of 100 entities × 3 views: p50 / p99;
 *   (3) peak memory of the servers.
 * Load comes from oha (bench/tools/setup.sh) on the same 2 cores as the servers.
 *
 *   npm run bench:online-serving -- [--entities 100000] [--seconds 10] [--concurrency 64] [--no-feast]
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdir, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { batchSource, collectDefinitions, compileDefinitions, entity, featureView, Float32, Int64, String as StringType, type ValueType } from "../src/index.js";
import { FeatureStore } from "../src/feature-store.js";
import { DuckDb } from "../src/offline/duckdb.js";
import { makeProject } from "../test/helpers/project.js";
import { freePort } from "../test/helpers/postgres-server.js";
import { startRedis } from "../test/helpers/redis-server.js";
import { startServerProcess } from "../test/helpers/server-process.js";
import { runMeasured } from "./lib/child-process.js";
import { oha, type LoadResult } from "./lib/oha.js";
import { peakRssMb, treeRssMb } from "./lib/proc-memory.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const root = join(repo, "bench", ".data", "online");
const VIEWS = ["view_a", "view_b", "view_c"];
const { values: args } = parseArgs({
  options: {
    entities: { type: "string", default: "100000" },
    seconds: { type: "string", default: "10" },
    concurrency: { type: "string", default: "64" },
    "no-feast": { type: "boolean", default: false },
  },
});
const entities = Number(args.entities);
const seconds = Number(args.seconds);
const concurrency = Number(args.concurrency);
const features = (view: string): string[] => Array.from({ length: 10 }, (_, i) => `${view.slice(-1)}_f${i + 1}`);

/** One Parquet file per view: every entity once, event times in the last hour, 4 floats, 3 ints, 3 strings. */
async function generate(duck: DuckDb): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const view of VIEWS) {
    const f = features(view);
    await duck.run(`COPY (SELECT i::BIGINT AS driver_id, now() - to_seconds((hash(i) % 3600)::BIGINT) AS event_timestamp, event_timestamp AS created_timestamp,
      ${f.slice(0, 4).map((n, j) => `(hash(i * ${j + 2}) % 10000 / 10000.0)::FLOAT AS ${n}`).join(", ")},
      ${f.slice(4, 7).map((n, j) => `(hash(i * ${j + 7}) % 100000)::BIGINT AS ${n}`).join(", ")},
      ${f.slice(7).map((n, j) => `'city_' || (hash(i * ${j + 11}) % 500)::VARCHAR AS ${n}`).join(", ")}
      FROM range(${entities}) t(i)) TO '${join(root, `${view}.parquet`)}' (FORMAT parquet)`);
  }
}

const line = (label: string, r: LoadResult, note = ""): void =>
  console.log(`  ${label.padEnd(46)} ${r.rps.toFixed(0).padStart(8)} req/s  p50 ${r.p50Ms.toFixed(2).padStart(6)} ms  p99 ${r.p99Ms.toFixed(2).padStart(7)} ms  ${note}`);
const singleBody = (view: string, id: number): string => JSON.stringify({ features: features(view).map((f) => `${view}:${f}`), entities: { driver_id: [id] } });

/** Runs a measurement `runs` times and keeps the median run by p99. */
async function medianByP99<R extends LoadResult>(runs: number, run: () => Promise<R>): Promise<R> {
  const results: R[] = [];
  for (let i = 0; i < runs; i++) results.push(await run());
  return results.sort((a, b) => a.p99Ms - b.p99Ms)[Math.floor(runs / 2)]!;
}

/**
 * The same fixed-rate run against a bare node:http server answering a same-sized canned
 * response: what any Node server can do on this machine with this load generator.
 */
async function trivialServerFloor(body: string): Promise<LoadResult> {
  const canned = JSON.stringify({ results: Array.from({ length: 11 }, () => ({ values: [0.5], statuses: ["PRESENT"], event_timestamps: ["2026-01-01T00:00:00.123456Z"] })), metadata: { feature_names: features("view_a") } });
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(canned) });
      res.end(canned);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    await oha(url, body, { seconds: 5, concurrency, rate: 3000 });
    return await medianByP99(3, () => oha(url, body, { seconds, concurrency: 32, rate: 5000 }));
  } finally {
    server.close();
  }
}

const duck = await DuckDb.open();
await rm(root, { recursive: true, force: true });
await generate(duck);
duck.close();
const redis = await startRedis();
const cleanup: (() => Promise<unknown>)[] = [() => redis.stop()];
try {
  console.log(`online-serving benchmark: ${entities.toLocaleString()} entities × ${VIEWS.length} views × 10 features; Redis cache; oha, ${concurrency} connections, ${seconds} s per run; 2 cores shared by servers and load\n`);
  const dir = join(root, "project");
  await makeProject({ dir, config: { project: "bench", online: { type: "sqlite", cache: { type: "redis", url: redis.url } } } });
  const store = await FeatureStore.open(dir, { actor: "bench" });
  const driver = entity({ name: "driver", joinKeys: ["driver_id"] });
  const views = VIEWS.map((view) => {
    const f = features(view);
    const typeOf = (i: number): ValueType => (i < 4 ? Float32 : i < 7 ? Int64 : StringType);
    const schema = Object.fromEntries(f.map((n, i): [string, ValueType] => [n, typeOf(i)]));
    return featureView({ name: view, entities: [driver], ttl: "1d", schema, source: batchSource({ path: join(root, `${view}.parquet`), timestampField: "event_timestamp", createdTimestampField: "created_timestamp" }) });
  });
  await store.apply(compileDefinitions(collectDefinitions({ views })));
  for (const view of VIEWS) await store.ingest(view);
  const materialized = await store.materialize({ end: new Date(Date.now() + 60_000) });
  await store.close();
  const loadSeconds = materialized.reduce((s, r) => s + r.seconds, 0);
  console.log(`  strata materialize (durable store + Redis cache warm-up): ${(entities * VIEWS.length).toLocaleString()} rows in ${loadSeconds.toFixed(1)} s\n`);

  const server = await startServerProcess(dir);
  cleanup.unshift(() => server.stop());
  const url = `${server.url}/get-online-features`;
  /** Degraded answers are fast but not the real values: count them per run (from /metrics). */
  const degradedCount = async (): Promise<number> => Number(/^strata_online_responses_total\{degraded="true"\} (\S+)$/m.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1] ?? 0);
  const measured = async (run: () => Promise<LoadResult>): Promise<LoadResult & { degraded: number }> => {
    const before = await degradedCount();
    const result = await run();
    return { ...result, degraded: (await degradedCount()) - before };
  };
  await oha(url, singleBody("view_a", 1), { seconds: 5, concurrency, rate: 3000 }); // warm-up (JIT, connections)
  const single = await measured(() => oha(url, singleBody("view_a", 4242), { seconds, concurrency }));
  const rate = await medianByP99(3, () => measured(() => oha(url, singleBody("view_a", 777), { seconds, concurrency: 32, rate: 5000 })));
  const batchIds = Array.from({ length: 100 }, (_, i) => (i * 997) % entities);
  const batchBody = JSON.stringify({ features: VIEWS.flatMap((v) => features(v).map((f) => `${v}:${f}`)), entities: { driver_id: batchIds } });
  const batchRate = await medianByP99(3, () => measured(() => oha(url, batchBody, { seconds, concurrency: 8, rate: 100 })));
  const batchSerial = await measured(() => oha(url, batchBody, { seconds, concurrency: 1 }));
  const floor = await trivialServerFloor(singleBody("view_a", 777));
  const strataPeak = peakRssMb(server.child.pid!);
  const degradedNote = (r: LoadResult & { degraded: number }): string => `degraded ${((r.degraded / Math.max(1, r.rps * seconds)) * 100).toFixed(2)}%`;

  const cacheKeys = Array.from({ length: 10 }, (_, i) => `strata:bench:view_a:v1:${i}`);
  const { stdout } = await promisify(execFile)("redis-benchmark", ["-h", "127.0.0.1", "-p", String(redis.port), "-c", String(concurrency), "-n", String(Math.round(seconds * 40_000)), "--csv", "MGET", ...cacheKeys]);
  const csv = stdout.trim().split("\n").at(-1)!.split(",").map((c) => c.replaceAll('"', ""));
  const raw: LoadResult = { rps: Number(csv[1]), p50Ms: Number(csv[4]), p99Ms: Number(csv[6]), successRate: 1, statuses: {} };

  console.log("(1) single entity (10 features), fixed concurrency:");
  line("strata /get-online-features", single, degradedNote(single));
  line("redis-benchmark MGET of 10 keys (Redis' limit)", raw, `strata / redis = ${(single.rps / raw.rps).toFixed(2)}`);
  let feastResult: LoadResult | undefined;
  let feastPeak = NaN;
  if (!args["no-feast"]) {
    const setup = await runMeasured("bash", [join(repo, "bench/feast/setup.sh")], { timeoutSeconds: 1800 });
    if (setup.exitCode !== 0) throw new Error(`Feast setup failed: ${setup.stderr}`);
    const feastRepo = join(root, "feast-repo");
    const prepared = await runMeasured(join(repo, "bench/.venv-feast/bin/python"), [join(repo, "bench/feast/online_repo.py"), "--views-dir", root, "--views", VIEWS.join(","), "--redis-port", String(redis.port), "--repo-dir", feastRepo], { timeoutSeconds: 1800 });
    if (prepared.report?.status !== "ok") throw new Error(`Feast repo set-up failed: ${prepared.stderr}`);
    const port = await freePort();
    const feast: ChildProcess = spawn(join(repo, "bench/.venv-feast/bin/feast"), ["serve", "-h", "127.0.0.1", "-p", String(port), "--no-access-log", "--max-requests", "0", "--workers", "2"], { cwd: feastRepo, stdio: "ignore", detached: true });
    cleanup.unshift(() => Promise.resolve(process.kill(-feast.pid!, "SIGTERM")));
    for (let i = 0; i < 300 && (await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status, () => 0)) !== 200; i++) await new Promise((r) => setTimeout(r, 200));
    const feastUrl = `http://127.0.0.1:${port}/get-online-features`;
    await oha(feastUrl, singleBody("view_a", 1), { seconds: 2, concurrency });
    feastResult = await oha(feastUrl, singleBody("view_a", 4242), { seconds, concurrency });
    feastPeak = treeRssMb(feast.pid!);
    line("feast 0.67 serve (2 workers, Redis online store)", feastResult, `materialize ${Number(prepared.report.materialize_seconds).toFixed(1)} s`);
    console.log(`  strata / feast throughput = ${(single.rps / feastResult.rps).toFixed(1)}x (target >= 10x); p99 ${single.p99Ms.toFixed(2)} vs ${feastResult.p99Ms.toFixed(2)} ms`);
  }
  console.log("\n  at a fixed 5,000 requests/s (latency-corrected; median of 3 runs by p99):");
  line("strata /get-online-features @ 5,000/s", rate, `target p99 <= 2 ms; ${degradedNote(rate)}`);
  line("floor: a bare node:http server, same sizes", floor, "(this machine's limit for any Node server)");
  console.log("\n(2) batches of 100 entities × 3 views (30 features, 3,000 values per response):");
  line("strata @ 100 batches/s (latency-corrected)", batchRate, `target p99 <= 10 ms; ${degradedNote(batchRate)}`);
  line("strata, one batch at a time", batchSerial, degradedNote(batchSerial));
  console.log(`\n(3) peak memory: strata server ${strataPeak.toFixed(0)} MB${Number.isNaN(feastPeak) ? "" : `; feast serve (master + workers, at the end) ${feastPeak.toFixed(0)} MB`}`);
} finally {
  for (const step of cleanup) await step().catch(() => undefined);
}
