/**
 * Benchmark for erasure (issue: governance). On generated data (default 10M offline rows of one
 * feature view over 100k customers and 30 days, materialized online), in one run:
 *   - `strata erase --entity customer_id=<one subject>` as users run it (CLI, its own process):
 *     wall time, peak memory, and the receipt's per-copy counts;
 *   - `strata erase --verify` over every copy;
 *   - the reference: a plain DuckDB rewrite of the whole data set without the subject's rows
 *     (what removing a subject costs without knowing which files hold it).
 *
 *   npm run bench:erasure -- [--rows 10000000] [--customers 100000] [--days 30]
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { batchSource, collectDefinitions, compileDefinitions, entity, featureView, Float64, String as StringType } from "../src/index.js";
import { FeatureStore } from "../src/feature-store.js";
import { readCommits } from "../src/offline/commit-log.js";
import { DuckDb } from "../src/offline/duckdb.js";
import { committedFiles, ViewVersionLayout } from "../src/offline/offline-layout.js";
import { quoteString, stringList } from "../src/util/sql.js";
import { makeProject } from "../test/helpers/project.js";
import { ensureOk, runMeasured } from "./lib/child-process.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const root = join(repo, "bench", ".data", "erasure");
const { values: args } = parseArgs({ options: { rows: { type: "string", default: "10000000" }, customers: { type: "string", default: "100000" }, days: { type: "string", default: "30" } } });
const rows = Number(args.rows);
const customers = Number(args.customers);
const days = Number(args.days);
const SUBJECT = "c-4242";

/** `strata <args>` under /usr/bin/time: its JSON report, wall seconds and peak RSS (MB). */
async function strata(dir: string, cliArgs: string[]): Promise<{ report: Record<string, unknown>; seconds: number; peakMb: number }> {
  const r = await runMeasured("/usr/bin/time", ["-f", "maxrss_kb=%M", process.execPath, join(repo, "dist/src/cli/main.js"), "-C", dir, ...cliArgs, "--json"], { timeoutSeconds: 3600 });
  ensureOk(`strata ${cliArgs.join(" ")}`, r);
  return { report: r.report!, seconds: r.wallSeconds, peakMb: Number(/maxrss_kb=(\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024 };
}

async function main(): Promise<void> {
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  const duck = await DuckDb.open();
  const source = join(root, "profile.parquet");
  let started = performance.now();
  await duck.run(`COPY (
    SELECT 'c-' || (r % ${customers}) AS customer_id,
           TIMESTAMPTZ '2024-01-01' + to_microseconds((hash(r * 31) % (${days} * 86400000000))::BIGINT) AS ts,
           (hash(r * 13) % 1000000 / 100.0)::DOUBLE AS spend,
           CASE WHEN r % 3 = 0 THEN 'gold' ELSE 'silver' END AS tier
    FROM range(${rows}) t(r)) TO ${quoteString(source)} (FORMAT parquet)`);
  console.log(`generated ${rows.toLocaleString()} rows (${customers.toLocaleString()} customers, ${days} days) in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const dir = await makeProject({ dir: join(root, "project"), config: { project: "bench" } });
  const store = await FeatureStore.open(dir, { actor: "bench" });
  const customer = entity({ name: "customer", joinKeys: ["customer_id"], valueType: StringType });
  const view = featureView({ name: "customer_profile", entities: [customer], schema: { spend: Float64, tier: StringType }, source: batchSource({ path: source, timestampField: "ts" }) });
  await store.apply(compileDefinitions(collectDefinitions({ view })));
  started = performance.now();
  await store.ingest("customer_profile");
  await store.materialize({ start: new Date("2023-12-01"), end: new Date("2024-03-01") });
  const layout = new ViewVersionLayout(store.config.offline.path, "customer_profile", 1);
  const files = committedFiles(layout, await readCommits(layout));
  await store.close();
  console.log(`ingested into ${files.length} partition files and materialized in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  // The reference first (it reads the same files): a rewrite of everything without the subject.
  started = performance.now();
  await duck.run(
    `COPY (SELECT *, CAST(event_timestamp AS DATE) AS date FROM read_parquet(${stringList(files)}, hive_partitioning = false) WHERE customer_id <> ${quoteString(SUBJECT)}) ` +
      `TO ${quoteString(join(root, "reference"))} (FORMAT parquet, PARTITION_BY (date))`,
  );
  const referenceSeconds = (performance.now() - started) / 1000;
  duck.close();

  const erase = await strata(dir, ["erase", "--entity", `customer_id=${SUBJECT}`, "--reason", "benchmark"]);
  const verify = await strata(dir, ["erase", "--verify", `customer_id=${SUBJECT}`]);
  const steps = (erase.report.steps as { copy: string; count: number }[]).map((s) => `${s.copy} ${s.count}`).join(", ");
  const left = (verify.report.remaining as { count: number }[]).reduce((n, r) => n + r.count, 0);
  console.log(`\nerase of one subject over ${rows.toLocaleString()} offline rows (${files.length} files)`);
  console.log(`  strata erase            ${erase.seconds.toFixed(2)} s (process incl. start-up), peak ${erase.peakMb.toFixed(0)} MB; removed: ${steps}`);
  console.log(`  strata erase --verify   ${verify.seconds.toFixed(2)} s, peak ${verify.peakMb.toFixed(0)} MB; remaining: ${left}`);
  console.log(`  reference: DuckDB rewrite of all rows without the subject  ${referenceSeconds.toFixed(2)} s`);
  console.log(`  ratio erase / reference: ${(erase.seconds / referenceSeconds).toFixed(2)}x`);
  if (left !== 0) process.exitCode = 1;
}

await main();
