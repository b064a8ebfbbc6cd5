import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { aggregationView, batchSource, collectDefinitions, compileDefinitions, entity, Float64, Int64, String as StringType, type AggregationInput } from "../../src/index.js";
import { toCsv } from "../helpers/csv.js";
import { openProject } from "../helpers/project.js";
import { sameValue, windowValue, type OracleEvent } from "../helpers/window-oracle.js";

const MINUTE_US = 60_000_000;
const BASE_MS = Date.UTC(2024, 0, 1, 22); // windows cross midnight, so tiles come from two date partitions
const iso = (us: number): string => new Date(BASE_MS + us / 1000).toISOString();

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

// Times on a 30 s grid over 4 hours: many events land exactly on tile edges and window starts, and ties happen.
const time = fc.integer({ min: 0, max: 480 }).map((half) => half * (MINUTE_US / 2));
const nullable = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.option(arb, { nil: null, freq: 4 });
const event = fc.record({
  card_id: fc.integer({ min: 1, max: 3 }),
  ts: time,
  lag: fc.integer({ min: 0, max: 40 }).map((m) => m * MINUTE_US),
  amount: nullable(fc.integer({ min: -100_000, max: 100_000 }).map((c) => c / 100)),
  qty: nullable(fc.integer({ min: -50, max: 50 })),
  merchant: nullable(fc.constantFrom("acme", "bolt", "cafe", "déli")),
});
const label = fc.record({ card_id: fc.integer({ min: 0, max: 3 }), t: time });
const scenario = fc.record({
  batches: fc.array(fc.array(event, { maxLength: 25 }), { minLength: 1, maxLength: 3 }),
  labels: fc.array(label, { minLength: 1, maxLength: 20 }),
  asOfIngestion: fc.boolean(),
});

describe("aggregation views in training sets match a brute-force window oracle", () => {
  it("on random events with ties, nulls, late arrivals and edges (tiles + head, and as of ingestion)", async () => {
    let caseNo = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { dir, store } = await openProject();
        try {
          const view = aggregationView({
            name: "card_activity",
            entities: [card],
            schema: { amount: Float64, qty: Int64, merchant: StringType },
            source: batchSource({ path: "events.csv", timestampField: "ts", createdTimestampField: "created" }),
            aggregations,
          });
          const repo = compileDefinitions(collectDefinitions({ view }));
          await store.apply(repo);
          const events: OracleEvent[] = [];
          for (const [i, batch] of s.batches.entries()) {
            const rows = batch.map((e) => ({ card_id: e.card_id, ts: iso(e.ts), created: iso(e.ts + e.lag), amount: e.amount, qty: e.qty, merchant: e.merchant }));
            events.push(...batch.map((e) => ({ key: String(e.card_id), ts: e.ts, cr: e.ts + e.lag, values: { amount: e.amount, qty: e.qty, merchant: e.merchant } })));
            const file = join(dir, `events-${caseNo}-${i}.csv`);
            await writeFile(file, toCsv(["card_id", "ts", "created", "amount", "qty", "merchant"], rows));
            if (rows.length > 0) await store.ingest("card_activity", { file });
          }
          const specs = repo.featureViews[0]!.aggregation!.aggregates;
          // Labels exactly at event times too: the strict `< t` edge, and ties with the head tile's events.
          const labels = [...s.labels, ...s.batches.flat().slice(0, 10).map((e) => ({ card_id: e.card_id, t: e.ts }))];
          const set = await store.getHistoricalFeatures({
            entities: labels.map((l) => ({ card_id: l.card_id, event_timestamp: new Date(BASE_MS + l.t / 1000), tag: `${l.card_id}@${l.t}` })),
            features: specs.map((a) => `card_activity:${a.name}`),
            asOfIngestion: s.asOfIngestion,
          });
          const rows = await set.toRows();
          await set.close();
          assert.equal(rows.length, labels.length);
          rows.forEach((row, i) => {
            const l = labels[i]!;
            assert.equal(row.tag, `${l.card_id}@${l.t}`, "input order kept");
            for (const a of specs) {
              const expected = windowValue(events, String(l.card_id), l.t, a, s.asOfIngestion);
              const scale = 1000 * events.length;
              assert.ok(sameValue(row[a.name], expected, scale), `case ${caseNo} label ${i} (${l.card_id} @ ${iso(l.t)}) ${a.name}: got ${String(row[a.name])}, expected ${String(expected)}`);
            }
          });
        } finally {
          caseNo++;
          await store.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});
