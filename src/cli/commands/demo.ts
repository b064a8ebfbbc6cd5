import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { FeatureStore } from "../../feature-store.js";
import { initProject } from "../../project/init-project.js";
import { renderLineage } from "./lineage.js";
import { formatTable } from "../output.js";
import { renderPlan } from "../render-plan.js";

/** Label rows that show the point-in-time rules at work on the driver data. */
const labels = [
  { driver_id: 1001, event_timestamp: new Date("2024-09-01T12:00:00Z"), trip_completed: true, note: "hourly data: takes the 11:00 row" },
  { driver_id: 1002, event_timestamp: new Date("2024-09-05T08:00:00Z"), trip_completed: false, note: "exactly at a row: strict <, takes 07:00" },
  { driver_id: 1003, event_timestamp: new Date("2024-09-02T22:30:00Z"), trip_completed: true, note: "22:00 row is stored 3 times" },
  { driver_id: 1004, event_timestamp: new Date("2024-09-20T00:00:00Z"), trip_completed: false, note: "last row older than ttl 2d: null" },
  { driver_id: 1005, event_timestamp: new Date("2024-08-26T10:00:00Z"), trip_completed: true, note: "no row before it within ttl: null" },
  { driver_id: 9999, event_timestamp: new Date("2024-09-03T00:00:00Z"), trip_completed: false, note: "unknown driver: null" },
];

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  console.log(`  ${label} (${((performance.now() - started) / 1000).toFixed(2)}s)`);
  return result;
}

/** The whole loop on embedded defaults: init, plan/apply, ingest, training set, a breaking change, lineage. */
export async function runDemo(keep: boolean): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "strata-demo-"));
  console.log(`Strata demo in ${dir} (embedded: SQLite registry, Parquet + DuckDB offline store)\n`);
  await initProject(dir, "driver_demo");
  const store = await FeatureStore.open(dir, { actor: "demo" });
  try {
    console.log("1. strata plan && strata apply");
    const applied = await timed("applied", () => store.apply());
    console.log(renderPlan({ plan: applied.plan, sources: applied.sources }).replace(/^/gm, "     "));

    console.log("\n2. strata ingest driver_hourly_stats");
    const report = await timed("ingested", () => store.ingest("driver_hourly_stats"));
    console.log(`     ${report.rows} rows from data/driver_stats.parquet → ${report.commit?.files.length ?? 0} date partitions`);

    console.log("\n3. strata training-set --service driver_ranking (strict: feature time < label time, ttl 2d)");
    const set = await timed("joined", () => store.getHistoricalFeatures({ entities: labels, service: "driver_ranking" }));
    const rows = await set.toRows();
    await set.write(join(dir, "train.parquet"));
    console.log(formatTable(rows, ["driver_id", "event_timestamp", "conv_rate", "acc_rate", "avg_daily_trips", "note"]).replace(/^/gm, "     "));
    for (const v of set.views) console.log(`     match rate ${v.view} v${v.version}: ${(v.matchRate * 100).toFixed(0)}%; written to train.parquet`);
    await set.close();

    console.log("\n4. a breaking change: avg_daily_trips Int64 → Float64 makes v2 beside v1");
    const features = join(dir, "features.ts");
    await writeFile(features, (await readFile(features, "utf8")).replace("avg_daily_trips: Int64", "avg_daily_trips: Float64").replace(", Int64 }", ", Float64 }"));
    const second = await timed("applied", () => store.apply());
    console.log(renderPlan({ plan: second.plan, sources: second.sources }).replace(/^/gm, "     "));
    console.log(`\n5. strata lineage driver_hourly_stats\n${renderLineage(await store.lineage("driver_hourly_stats")).replace(/^/gm, "     ")}`);
  } finally {
    await store.close();
    if (keep) console.log(`\nKept the project: strata -C ${dir} registry list`);
    else await rm(dir, { recursive: true, force: true });
  }
}

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("run init, apply, ingest and a training set on the driver example in a temporary project")
    .option("--keep", "keep the temporary project to explore it")
    .action(async (options: { keep?: boolean }) => runDemo(options.keep === true));
}
