import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { arrayOf, Float64, Int64, type ValueType } from "../../src/index.js";
import type { OnlineReadResult } from "../../src/online/read/online-reader.js";
import type { FeatureStatus } from "../../src/online/read/feature-status.js";
import type { ReadPlan } from "../../src/online/read/read-plan.js";
import { LineBatches } from "../../src/serving-log/log-writer.js";
import { packResponse, planSpec } from "../../src/serving-log/log-rows.js";
import { PackedBuilder } from "../../src/serving-log/packed-transfer.js";
import { ParquetLogSink } from "../../src/serving-log/parquet-log-sink.js";
import { DuckDb } from "../../src/offline/duckdb.js";
import { tempDir } from "../helpers/temp-dir.js";
import { loggedFeatures, loggedRows } from "./logged-rows.js";

const FloatList = arrayOf(Float64);
const view = (name: string, version: number, features: [string, ValueType][], keys: ReadPlan["joinKeys"]): ReadPlan["views"][number] =>
  ({ ref: { view: name, version }, joinKeys: keys, ttlSeconds: null, features: features.map(([f, type]) => ({ name: f, type, output: f })) });
const both = [{ name: "customer_id", type: "String" }, { name: "driver_id", type: "Int64" }] as ReadPlan["joinKeys"];
const driver = [{ name: "driver_id", type: "Int64" }] as ReadPlan["joinKeys"];
/** Two request shapes: two views with two join keys, and one view of another version. */
const PLANS: ReadPlan[] = [
  { joinKeys: both, views: [view("profile", 3, [["score", Float64], ["embedding", FloatList]], both), view("trips", 1, [["n", Int64]], driver)] },
  { joinKeys: driver, views: [view("trips", 2, [["n", Int64]], driver)] },
];
const STATUSES: FeatureStatus[] = ["PRESENT", "NULL_VALUE", "NOT_FOUND", "OUTSIDE_MAX_AGE", "DEFAULTED"];

/** A seeded generator (mulberry32), so a failure repeats. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Generated {
  readonly requestId: string;
  readonly servedAt: number;
  readonly service: string | null;
  readonly plan: ReadPlan;
  readonly entities: Record<string, unknown[]>;
  readonly result: OnlineReadResult;
}

function generate(rand: () => number, n: number): Generated[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  // Two UTC dates: the minute before midnight and the one after.
  const midnight = Date.parse("2026-03-01T00:00:00Z");
  return Array.from({ length: n }, (_, r) => {
    const plan = pick(PLANS);
    const rows = 1 + Math.floor(rand() * 3);
    const entities: Record<string, unknown[]> = {};
    for (const key of plan.joinKeys) entities[key.name] = Array.from({ length: rows }, () => (key.type === "String" ? pick(["c-1", 'q"uote', "tab\there", "☃"]) : Math.floor(rand() * 1e6)));
    const columns = plan.views.flatMap((v) => {
      const times = Array.from({ length: rows }, () => (rand() < 0.2 ? null : Math.floor(rand() * 1e15)));
      return v.features.map((f) => ({
        values: times.map(() => (rand() < 0.2 ? null : f.type === Float64 ? rand() * 1e6 - 5e5 : f.type === Int64 ? Math.floor(rand() * 1e9) : Array.from({ length: Math.floor(rand() * 3) }, () => rand() - 0.5))),
        statuses: times.map(() => pick(STATUSES)),
        eventTimestamps: times,
      }));
    });
    return { requestId: `req-${String(r).padStart(4, "0")}`, servedAt: midnight + Math.floor((rand() - 0.5) * 120_000), service: rand() < 0.3 ? null : "svc", plan, entities, result: { rows, degraded: rand() < 0.3, columns } };
  });
}

/** The writer's rows against what was generated: every status, null values and times, several views, shapes and dates in one batch. */
describe("serving log rows", () => {
  it("hold each response's values, statuses, event times and view versions, whatever their mix", async () => {
    const root = await tempDir();
    const batches = new LineBatches(new ParquetLogSink(root), 3);
    PLANS.forEach((plan, i) => batches.plan(i + 1, planSpec(plan)));
    const responses = generate(random(7), 200);
    for (let i = 0; i < responses.length; i += 37) {
      const packed = new PackedBuilder();
      const part = responses.slice(i, i + 37);
      for (const g of part) packResponse(packed, PLANS.indexOf(g.plan) + 1, g.plan, g.requestId, g.servedAt, g.service ?? undefined, g.entities, g.result);
      batches.rows(packed.take(), part.reduce((n, g) => n + g.result.rows, 0), part.length);
    }
    const report = await batches.flush();
    assert.equal(report.files, 2, "one file per date");
    assert.equal(report.rows, responses.reduce((n, g) => n + g.result.rows, 0));
    const duck = await DuckDb.open();
    try {
      const rows = await loggedRows(duck, root);
      assert.equal(rows.length, report.rows);
      for (const row of rows) {
        const g = responses.find((x) => x.requestId === row.request_id)!;
        const i = row.row_index;
        const where = `${g.requestId} row ${i}`;
        assert.equal(row.served_at, new Date(g.servedAt).toISOString(), where);
        assert.equal(row.service, g.service, where);
        assert.equal(row.degraded, g.result.degraded, where);
        assert.deepEqual(JSON.parse(row.entity), Object.fromEntries(g.plan.joinKeys.map((k) => [k.name, g.entities[k.name]![i]])), where);
        const features = loggedFeatures(row);
        const expected = g.plan.views.flatMap((v) => v.features.map((f) => ({ feature: `${v.ref.view}:${f.name}`, view: v.ref.view, version: v.ref.version })));
        assert.deepEqual(features.map((f) => ({ feature: f.feature, view: f.view, version: f.version })), expected, where);
        features.forEach((f, j) => {
          const column = g.result.columns[j]!;
          assert.deepEqual(f.value ?? null, column.values[i] ?? null, `${where} ${f.feature} value`);
          assert.equal(f.status, column.statuses[i], `${where} ${f.feature} status`);
          assert.equal(f.event_time, column.eventTimestamps[i], `${where} ${f.feature} event time`);
        });
      }
      assert.deepEqual(new Set(rows.flatMap((r) => loggedFeatures(r).map((f) => f.status))), new Set(STATUSES), "every status was exercised");
    } finally {
      duck.close();
      await batches.close();
    }
  });
});
