import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { batchSource, collectDefinitions, compileDefinitions, entity, featureView, Float64, Int64 } from "../../src/index.js";
import type { FeatureStore } from "../../src/feature-store.js";
import { openProject } from "../helpers/project.js";

const CHILD = fileURLToPath(new URL("./materialize-child.js", import.meta.url));
const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

/** Offline rows for the oracle: driver, event and created times (ms), value. */
interface Row { driver_id: number; ts: number; created: number; value: number }

/** The newest row per driver with start <= ts < end (by ts, then created): the contract, by brute force. */
function latestPerDriver(rows: readonly Row[], start: number, end: number): Map<number, Row> {
  const best = new Map<number, Row>();
  for (const r of rows) {
    if (r.ts < start || r.ts >= end) continue;
    const b = best.get(r.driver_id);
    if (b === undefined || r.ts > b.ts || (r.ts === b.ts && r.created > b.created)) best.set(r.driver_id, r);
  }
  return best;
}

describe("materialization", () => {
  let store: FeatureStore;
  let dir: string;
  const rows: Row[] = [];

  /** Ingests rows through a Parquet file written by the store's own engine. */
  async function ingest(batch: readonly Row[], view = "stats"): Promise<void> {
    const engine = await store.engine();
    const file = join(dir, `batch-${rows.length}-${view}.parquet`);
    const values = batch.map((r) => `(${r.driver_id}, make_timestamp(${r.ts * 1000}::BIGINT)::TIMESTAMPTZ, make_timestamp(${r.created * 1000}::BIGINT)::TIMESTAMPTZ, ${r.value}::DOUBLE)`).join(", ");
    await engine.run(`COPY (SELECT * FROM (VALUES ${values}) t(driver_id, ts, created, value)) TO '${file}' (FORMAT parquet)`);
    await store.ingest(view, { file });
  }

  async function durableValues(drivers: readonly number[]): Promise<(Record<string, unknown> | undefined)[]> {
    const online = await store.online();
    const records = await online.durable.readMany({ view: "stats", version: 1 }, drivers.map(String));
    return records.map((r) => (r === undefined ? undefined : { ...(JSON.parse(r.values) as object), ts: r.eventTs / 1000, created: r.createdTs / 1000 }));
  }

  before(async () => {
    ({ store, dir } = await openProject());
    const driver = entity({ name: "driver", joinKeys: ["driver_id"] });
    const source = (path: string) => batchSource({ path, timestampField: "ts", createdTimestampField: "created" });
    const stats = featureView({ name: "stats", entities: [driver], schema: { value: Float64 }, source: source("stats.parquet") });
    const big = featureView({ name: "big", entities: [driver], schema: { value: Float64, n: Int64 }, source: source("big.parquet") });
    await store.apply(compileDefinitions(collectDefinitions({ stats, big })));
    // Ties on event time across two ingestions, rows on both sides of the window edges.
    let seed = 7;
    const rand = (n: number): number => (seed = (seed * 16807) % 2147483647) % n;
    for (let i = 0; i < 400; i++) rows.push({ driver_id: rand(60), ts: T0 + rand(48) * HOUR, created: T0 + rand(96) * HOUR, value: i });
    await ingest(rows.slice(0, 200));
    await ingest(rows.slice(200));
  });
  after(() => store.close());

  it("loads the newest row per entity within [start, end), like the oracle", async () => {
    const [start, end] = [T0 + 6 * HOUR, T0 + 30 * HOUR];
    const [report] = await store.materialize({ views: ["stats"], start: new Date(start), end: new Date(end) });
    const expected = latestPerDriver(rows, start, end);
    assert.equal(report?.rows, expected.size);
    const drivers = Array.from({ length: 60 }, (_, i) => i);
    const got = await durableValues(drivers);
    drivers.forEach((d, i) => {
      const e = expected.get(d);
      assert.deepEqual(got[i], e === undefined ? undefined : { value: e.value, ts: e.ts, created: e.created }, `driver ${d}`);
    });
  });

  it("is idempotent and never replaces newer values with older ones", async () => {
    const [start, end] = [T0 + 6 * HOUR, T0 + 30 * HOUR];
    const before = await durableValues([1, 2, 3]);
    const [again] = await store.materialize({ views: ["stats"], start: new Date(start), end: new Date(end) });
    assert.equal(again?.skipped, true);
    const [older] = await store.materialize({ views: ["stats"], start: new Date(T0), end: new Date(T0 + 6 * HOUR) });
    const later = latestPerDriver(rows, T0 + 6 * HOUR, T0 + 30 * HOUR);
    const onlyEarlier = [...latestPerDriver(rows, T0, T0 + 6 * HOUR).keys()].filter((d) => !later.has(d));
    assert.equal(older?.applied, onlyEarlier.length, "an earlier window adds only drivers the later one lacked");
    assert.deepEqual(await durableValues([1, 2, 3]), before);
  });

  it("continues incrementally from the last end", async () => {
    const [report] = await store.materialize({ views: ["stats"], end: new Date(T0 + 48 * HOUR), incremental: true });
    assert.deepEqual([report?.start, report?.end], [(T0 + 30 * HOUR) * 1000, (T0 + 48 * HOUR) * 1000]);
    const expected = latestPerDriver(rows, T0, T0 + 48 * HOUR);
    const got = await durableValues([...expected.keys()]);
    [...expected.values()].forEach((e, i) => assert.deepEqual(got[i], { value: e.value, ts: e.ts, created: e.created }));
  });

  it("resumes after SIGKILL, streams with bounded memory, and ends with every entity loaded", async () => {
    const entities = 400_000;
    const engine = await store.engine();
    const file = join(dir, "big.parquet");
    await engine.run(`COPY (SELECT i AS driver_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(i % 3600) AS ts, ts AS created, i * 0.5 AS value, i AS n FROM range(${entities}) t(i)) TO '${file}' (FORMAT parquet)`);
    await store.ingest("big", { file });
    const end = "2024-01-02T00:00:00Z";
    const jobRows = (): number => {
      const db = new Database(join(dir, ".strata", "online.db"), { readonly: true });
      try {
        return (db.prepare("SELECT rows_written FROM materializations WHERE view = 'big'").get() as { rows_written?: number } | undefined)?.rows_written ?? 0;
      } finally {
        db.close();
      }
    };
    const killed = spawn(process.execPath, [CHILD, dir, end], { stdio: "ignore" });
    const deadline = Date.now() + 120_000;
    while (jobRows() < 20_000) {
      assert.ok(killed.exitCode === null && Date.now() < deadline, "the first run reached 20,000 rows before it ended or two minutes passed");
      await sleep(20);
    }
    killed.kill("SIGKILL");
    await new Promise((r) => killed.on("exit", r));
    const written = jobRows();
    assert.ok(written > 0 && written < entities, `killed part way (${written} of ${entities})`);

    const resumed = spawn(process.execPath, [CHILD, dir, end], { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    resumed.stdout.on("data", (d: Buffer) => (output += d.toString()));
    const code = await new Promise((r) => resumed.on("exit", r));
    assert.equal(code, 0, "the resumed run succeeded");
    const { reports, peakHeapMb } = JSON.parse(output) as { reports: { view: string; rows: number; resumedFrom: number }[]; peakHeapMb: number };
    const big = reports.find((r) => r.view === "big");
    assert.equal(big?.resumedFrom, written, "picked up where the killed run stopped");
    assert.equal((big?.resumedFrom ?? 0) + (big?.rows ?? 0), entities);
    assert.ok(peakHeapMb < 150, `peak JS heap ${peakHeapMb.toFixed(0)} MB: rows stream in batches rather than all at once`);
    const online = await store.online();
    const sample = [0, 1, 123_456, entities - 1];
    const records = await online.durable.readMany({ view: "big", version: 1 }, sample.map(String));
    assert.deepEqual(records.map((r) => JSON.parse(r!.values) as unknown), sample.map((i) => ({ value: i * 0.5, n: i })));
  });
});
