import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { aggregationView, batchSource, collectDefinitions, compileDefinitions, entity, Float64, Int64, String as StringType, type AggregationInput } from "../../src/index.js";
import { toCsv } from "../helpers/csv.js";
import { openProject } from "../helpers/project.js";
import { lastTies, sameValue, windowValue, type OracleEvent } from "../helpers/window-oracle.js";

const MINUTE_US = 60_000_000;
const BASE_MS = Date.UTC(2024, 0, 31, 22); // windows cross midnight and a month end, so blocks come from two dates and two month packs
// The oracle floors times relative to the base: a base at 22:00 suits hops that divide 2 hours, one at midnight any hop.
const DAY_BASE_MS = Date.UTC(2024, 0, 28); // the 8 days span a month end

const card = entity({ name: "card", joinKeys: ["card_id"], valueType: Int64 });
const aggregations: AggregationInput[] = [
  { column: "*", function: "count", window: "10m" },
  { column: "amount", function: "sum", window: "15m" },
  { column: "amount", function: "mean", window: "30m", hop: "10m" },
  { column: "amount", function: "min", window: "20m" },
  { column: "amount", function: "max", window: "1h" },
  { column: "qty", function: "sum", window: "2h", hop: "1h" },
  { column: "qty", function: "count", window: "1h" },
  { column: "merchant", function: "last", window: "45m", hop: "15m" },
  { column: "merchant", function: "min", window: "3h", hop: "1h" },
];

// Several days of events on a 20-minute grid (midnights included) for windows of a day and more:
// their whole days come from slides, and later batches add events to earlier days.
const longAggregations: AggregationInput[] = [
  { column: "*", function: "count", window: "2d" },
  { column: "amount", function: "sum", window: "3d" },
  { column: "amount", function: "mean", window: "36h" },
  { column: "amount", function: "max", window: "1d", hop: "6h" },
  { column: "qty", function: "min", window: "25h" },
  { column: "qty", function: "sum", window: "4d", hop: "1d" },
  { column: "merchant", function: "last", window: "2d", hop: "2h" },
  { column: "merchant", function: "max", window: "30m" },
];
const TWENTY_MINUTES_US = 20 * MINUTE_US;

/** Events and labels at `time`s; every column nullable. */
function scenarioOf(time: fc.Arbitrary<number>, keys: number) {
  const nullable = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.option(arb, { nil: null, freq: 4 });
  const event = fc.record({
    card_id: fc.integer({ min: 1, max: keys }),
    ts: time,
    lag: fc.integer({ min: 0, max: 40 }).map((m) => m * MINUTE_US),
    amount: nullable(fc.integer({ min: -100_000, max: 100_000 }).map((c) => c / 100)),
    qty: nullable(fc.integer({ min: -50, max: 50 })),
    merchant: nullable(fc.constantFrom("acme", "bolt", "cafe", "déli")),
  });
  const label = fc.record({ card_id: fc.integer({ min: 0, max: keys }), t: time });
  return fc.record({
    batches: fc.array(fc.array(event, { maxLength: 25 }), { minLength: 1, maxLength: 3 }),
    labels: fc.array(label, { minLength: 1, maxLength: 20 }),
    asOfIngestion: fc.boolean(),
  });
}
type Scenario = ReturnType<typeof scenarioOf> extends fc.Arbitrary<infer S> ? S : never;

/**
 * Ingests each batch, then (with `everyBatch`, after each one: incremental backfills) builds a
 * training set and compares every value with the oracle.
 */
async function checkAgainstOracle(s: Scenario, aggregations: readonly AggregationInput[], caseNo: number, everyBatch: boolean, baseMs: number): Promise<void> {
  const iso = (us: number): string => new Date(baseMs + us / 1000).toISOString();
  const { dir, store } = await openProject();
  try {
    const view = aggregationView({
      name: "card_activity",
      entities: [card],
      schema: { amount: Float64, qty: Int64, merchant: StringType },
      source: batchSource({ path: "events.csv", timestampField: "ts", createdTimestampField: "created" }),
      aggregations: [...aggregations],
    });
    const repo = compileDefinitions(collectDefinitions({ view }));
    await store.apply(repo);
    const specs = repo.featureViews[0]!.aggregation!.aggregates;
    const events: OracleEvent[] = [];
    for (const [i, batch] of s.batches.entries()) {
      const rows = batch.map((e) => ({ card_id: e.card_id, ts: iso(e.ts), created: iso(e.ts + e.lag), amount: e.amount, qty: e.qty, merchant: e.merchant }));
      events.push(...batch.map((e) => ({ key: String(e.card_id), ts: e.ts, cr: e.ts + e.lag, values: { amount: e.amount, qty: e.qty, merchant: e.merchant } })));
      const file = join(dir, `events-${caseNo}-${i}.csv`);
      await writeFile(file, toCsv(["card_id", "ts", "created", "amount", "qty", "merchant"], rows));
      if (rows.length > 0) await store.ingest("card_activity", { file });
      if (!everyBatch && i < s.batches.length - 1) continue;
      // Labels exactly at event times too: the strict `< t` edge, and ties with the head's events.
      const labels = [...s.labels, ...s.batches.flat().slice(0, 10).map((e) => ({ card_id: e.card_id, t: e.ts }))];
      const set = await store.getHistoricalFeatures({
        entities: labels.map((l) => ({ card_id: l.card_id, event_timestamp: new Date(baseMs + l.t / 1000), tag: `${l.card_id}@${l.t}` })),
        features: specs.map((a) => `card_activity:${a.name}`),
        asOfIngestion: s.asOfIngestion,
      });
      const out = await set.toRows();
      await set.close();
      assert.equal(out.length, labels.length);
      out.forEach((row, n) => {
        const l = labels[n]!;
        assert.equal(row.tag, `${l.card_id}@${l.t}`, "input order kept");
        for (const a of specs) {
          const expected = windowValue(events, String(l.card_id), l.t, a, s.asOfIngestion);
          const tied = lastTies(events, String(l.card_id), l.t, a, s.asOfIngestion).some((v) => sameValue(row[a.name], v, 0));
          assert.ok(sameValue(row[a.name], expected, 1000 * events.length) || tied, `case ${caseNo} batch ${i} label ${n} (${l.card_id} @ ${iso(l.t)}) ${a.name}: got ${String(row[a.name])}, expected ${String(expected)}`);
        }
      });
    }
  } finally {
    await store.close();
  }
}

describe("aggregation views in training sets match a brute-force window oracle", () => {
  it("on random events with ties, nulls, late arrivals and edges (tiles + head, and as of ingestion)", async () => {
    // Times on a 30 s grid over 4 hours: many events land exactly on tile edges and window starts, and ties happen.
    const time = fc.integer({ min: 0, max: 480 }).map((half) => half * (MINUTE_US / 2));
    let caseNo = 0;
    await fc.assert(
      fc.asyncProperty(scenarioOf(time, 3), (s) => checkAgainstOracle(s, aggregations, caseNo++, false, BASE_MS)),
      { numRuns: 60 },
    );
  });

  it("on windows of days: slides over whole days, late events on earlier days, a training set after each batch", async () => {
    // 8 days from midnight on a 20-minute grid.
    const time = fc.integer({ min: 0, max: 8 * 72 }).map((step) => step * TWENTY_MINUTES_US);
    let caseNo = 0;
    await fc.assert(
      fc.asyncProperty(scenarioOf(time, 2), (s) => checkAgainstOracle(s, longAggregations, caseNo++, true, DAY_BASE_MS)),
      { numRuns: 40 },
    );
  });
});
