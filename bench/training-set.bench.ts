/**
 * Benchmark for training sets (issue: foundation). In one run, on generated data:
 *   - `strata training-set` over 3 views (CLI, as users run it);
 *   - the hand-written DuckDB ASOF query over the same stored Parquet files (the engine's limit);
 *   - Feast 0.67's default local offline store (`get_historical_features`), inclusive semantics,
 *     at growing sizes until it fails or exceeds its time limit, against Strata --inclusive.
 * Prints seconds, peak memory and the ratios. Generated data is cached under bench/.data/.
 *
 *   npm run bench:training-set -- [--rows 10000000] [--labels 1000000] [--entities 100000] [--repeat 3] [--no-feast]
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { batchSource, collectDefinitions, compileDefinitions, entity, featureView, Float32, Int64 } from "../src/index.js";
import { FeatureStore } from "../src/feature-store.js";
import { DuckDb } from "../src/offline/duckdb.js";
import { makeProject } from "../test/helpers/project.js";
import { ensureOk, runMeasured, type ChildResult } from "./lib/child-process.js";
import { featureNames, generateTrainingData, viewName, type TrainingDataSize } from "./lib/generate-training-data.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const dataRoot = join(repo, "bench", ".data", "training-set");
const TTL_SECONDS = 2 * 86_400;

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "10000000" },
    labels: { type: "string", default: "1000000" },
    entities: { type: "string", default: "100000" },
    days: { type: "string", default: "90" },
    "no-feast": { type: "boolean", default: false },
    "feast-timeout": { type: "string", default: "600" },
    repeat: { type: "string", default: "3" },
  },
});
const main: TrainingDataSize = { views: 3, rowsPerView: Number(args.rows), entities: Number(args.entities), days: Number(args.days), labels: Number(args.labels) };

/** A Strata project over the generated sources, ingested (timed). */
async function prepareProject(size: TrainingDataSize, sources: readonly string[]): Promise<{ dir: string; ingestSeconds: number }> {
  const dir = join(dataRoot, `project-${size.rowsPerView}`);
  await rm(dir, { recursive: true, force: true });
  await makeProject({ dir, config: { project: "bench" } });
  const store = await FeatureStore.open(dir, { actor: "bench" });
  const driver = entity({ name: "driver", joinKeys: ["driver_id"] });
  const views = sources.map((path, i) => {
    const [f1, f2, f3] = featureNames(viewName(i)) as [string, string, string];
    return featureView({ name: viewName(i), entities: [driver], ttl: TTL_SECONDS, schema: { [f1]: Float32, [f2]: Float32, [f3]: Int64 }, source: batchSource({ path, timestampField: "event_timestamp", createdTimestampField: "created_timestamp" }) });
  });
  await store.apply(compileDefinitions(collectDefinitions({ views })));
  const started = performance.now();
  for (const view of views) await store.ingest(view.name);
  const ingestSeconds = (performance.now() - started) / 1000;
  await store.close();
  return { dir, ingestSeconds };
}

function strata(dir: string, labels: string, out: string, extra: string[] = []): Promise<ChildResult> {
  const features = Array.from({ length: main.views }, (_, i) => featureNames(viewName(i)).map((f) => `${viewName(i)}:${f}`)).flat();
  return runMeasured(process.execPath, [join(repo, "dist/src/cli/main.js"), "-C", dir, "training-set", "--entities", labels, "--features", features.join(","), "--out", out, "--json", ...extra], { timeoutSeconds: 1800 });
}

const seconds = (r: ChildResult): number => Number(r.report?.seconds ?? r.wallSeconds);
const rss = (r: ChildResult): number => Number(r.report?.peakRssMb ?? r.report?.peak_rss_mb ?? NaN);
const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
const line = (label: string, r: ChildResult, note = ""): void => console.log(`  ${label.padEnd(44)} ${fmt(seconds(r)).padStart(8)} s ${fmt(rss(r), 0).padStart(8)} MB  ${note}`);

const duck = await DuckDb.open();
console.log(`training-set benchmark: ${main.views} views × ${main.rowsPerView.toLocaleString()} rows, ${main.entities.toLocaleString()} entities, ${main.days} days; ${main.labels.toLocaleString()} labels; ttl 2d; ${(await import("node:os")).cpus().length} cores`);
const mainDir = join(dataRoot, `data-${main.rowsPerView}-${main.labels}`);
const data = await generateTrainingData(duck, mainDir, main);
const project = await prepareProject(main, data.sources);
console.log(`  ingest of ${(main.views * main.rowsPerView).toLocaleString()} rows: ${fmt(project.ingestSeconds)} s (${fmt((main.views * main.rowsPerView) / project.ingestSeconds / 1e6)} M rows/s)\n`);

/** Runs each contender `--repeat` times, interleaved so machine noise hits both alike, and keeps each one's median run. */
async function medians(contenders: Record<string, () => Promise<ChildResult>>): Promise<Record<string, ChildResult>> {
  const runs: Record<string, ChildResult[]> = {};
  for (let i = 0; i < Number(args.repeat); i++) {
    for (const [name, measure] of Object.entries(contenders)) {
      const run = await measure();
      ensureOk(name, run);
      (runs[name] ??= []).push(run);
    }
  }
  return Object.fromEntries(Object.entries(runs).map(([name, list]) => [name, list.sort((a, b) => seconds(a) - seconds(b))[Math.floor(list.length / 2)]!]));
}
const globs = Array.from({ length: main.views }, (_, i) => `${viewName(i)}=${join(project.dir, ".strata/offline", viewName(i), "v1", "date=*", "*.parquet")}`);
const { strict, raw } = (await medians({
  strict: () => strata(project.dir, data.labels, join(mainDir, "strata.parquet")),
  raw: () => runMeasured(process.execPath, [join(repo, "dist/bench/raw-duckdb-asof.js"), data.labels, join(mainDir, "raw.parquet"), String(TTL_SECONDS), ...globs], { timeoutSeconds: 1800 }),
})) as { strict: ChildResult; raw: ChildResult };
const [diff] = await duck.rows(`SELECT count(*) AS n FROM ((FROM '${join(mainDir, "strata.parquet")}' EXCEPT ALL FROM '${join(mainDir, "raw.parquet")}') UNION ALL (FROM '${join(mainDir, "raw.parquet")}' EXCEPT ALL FROM '${join(mainDir, "strata.parquet")}'))`);
console.log(`  (median of ${args.repeat} interleaved runs for the first two lines)`);
line("strata training-set (3 views, strict)", strict, `target < 15 s`);
line("hand-written DuckDB ASOF (reference)", raw, `strata / raw = ${fmt(seconds(strict) / seconds(raw))} (target <= 1.3); rows differing: ${Number(diff?.n)}`);
const inclusive = await strata(project.dir, data.labels, join(mainDir, "strata-inclusive.parquet"), ["--inclusive"]);
ensureOk("strata --inclusive", inclusive);
line("strata training-set --inclusive", inclusive);
const asOf = await strata(project.dir, data.labels, join(mainDir, "strata-asof.parquet"), ["--as-of-ingestion"]);
ensureOk("strata --as-of-ingestion", asOf);
line("strata training-set --as-of-ingestion", asOf, "(inequality join + arg_max plan)");

// Corrections re-sent for existing (key, event time) pairs make ties possible: retrieval then
// takes the created_timestamp tie-break plan. Measured last, as it changes the project's data.
const corrections = join(mainDir, "corrections");
for (const [i, source] of data.sources.entries()) {
  await duck.run(`COPY (SELECT * REPLACE (created_timestamp + INTERVAL 1 DAY AS created_timestamp) FROM read_parquet('${source}') LIMIT 10000) TO '${corrections}-${i}.parquet' (FORMAT parquet)`);
}
const correctedStore = await FeatureStore.open(project.dir, { actor: "bench" });
for (let i = 0; i < main.views; i++) await correctedStore.ingest(viewName(i), { file: `${corrections}-${i}.parquet` });
await correctedStore.close();
const tied = await strata(project.dir, data.labels, join(mainDir, "strata-ties.parquet"));
ensureOk("strata with ties", tied);
line("strata training-set, ties present", tied, "(after re-ingesting 10k corrected rows per view: tie-break plan)");

if (!args["no-feast"]) {
  console.log("\nFeast 0.67 (local file offline store, inclusive) vs strata --inclusive, growing sizes:");
  const setup = await runMeasured("bash", [join(repo, "bench/feast/setup.sh")], { timeoutSeconds: 1800 });
  if (setup.exitCode !== 0) throw new Error(`Feast setup failed: ${setup.stderr}`);
  const python = join(repo, "bench/.venv-feast/bin/python");
  // Smaller sizes keep rows per entity (and so the share of labels with a row in the ttl) constant.
  const ladder = [0.01, 0.1, 1].map((f) => ({ ...main, rowsPerView: Math.round(main.rowsPerView * f), labels: Math.round(main.labels * f), entities: Math.round(main.entities * f) }));
  let largest: { size: TrainingDataSize; feast: ChildResult; strata: ChildResult } | undefined;
  for (const size of ladder) {
    const dir = size.rowsPerView === main.rowsPerView ? mainDir : join(dataRoot, `data-${size.rowsPerView}-${size.labels}`);
    const sized = size.rowsPerView === main.rowsPerView ? data : await generateTrainingData(duck, dir, size);
    const views = Array.from({ length: size.views }, (_, i) => viewName(i));
    const feast = await runMeasured(python, [join(repo, "bench/feast/historical.py"), "--views-dir", dir, "--views", views.join(","), "--labels", sized.labels, "--out", join(dir, "feast.parquet"), "--ttl-seconds", String(TTL_SECONDS), "--timeout-seconds", args["feast-timeout"]], { timeoutSeconds: Number(args["feast-timeout"]) + 120 });
    const sizedProject = size.rowsPerView === main.rowsPerView ? project : await prepareProject(size, sized.sources);
    const mine = size.rowsPerView === main.rowsPerView ? inclusive : await strata(sizedProject.dir, sized.labels, join(dir, "strata-inclusive.parquet"), ["--inclusive"]);
    const label = `${(size.views * size.rowsPerView).toLocaleString()} rows / ${size.labels.toLocaleString()} labels`;
    const status = (feast.report?.status as string | undefined) ?? (feast.timedOut ? "timeout" : `exit ${feast.exitCode}`);
    if (status !== "ok") {
      console.log(`  Feast at ${label}: ${status} (limit ${args["feast-timeout"]} s) ${((feast.report?.error as string | undefined) ?? "").slice(0, 200)}`);
      break;
    }
    // Feast's file store drops label rows whose driver has rows, but none in the window: say how many it returned.
    line(`Feast @ ${label}`, feast, `returned ${Number(feast.report?.rows).toLocaleString()} of ${size.labels.toLocaleString()} label rows`);
    line(`strata --inclusive @ ${label}`, mine, `Feast / strata = ${fmt(seconds(feast) / seconds(mine), 1)}x`);
    largest = { size, feast, strata: mine };
  }
  if (largest !== undefined) {
    console.log(`  largest size Feast completed: ${(largest.size.views * largest.size.rowsPerView).toLocaleString()} rows; strata is ${fmt(seconds(largest.feast) / seconds(largest.strata), 1)}x faster (target >= 10x)`);
  }
}
duck.close();
