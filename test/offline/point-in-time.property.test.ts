import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { before, after, describe, it } from "node:test";
import fc from "fast-check";
import { batchSource, collectDefinitions, compileDefinitions, entity, featureView, Float64, Int32, Int64, String as StringType } from "../../src/index.js";
import type { FeatureStore } from "../../src/feature-store.js";
import { DuckDb } from "../../src/offline/duckdb.js";
import { toCsv } from "../helpers/csv.js";
import { acceptableValues, type OracleFeatureRow } from "../helpers/pit-oracle.js";
import { openProject } from "../helpers/project.js";

const MINUTE = 60_000;
const BASE = Date.UTC(2024, 0, 1);
const at = (minute: number): Date => new Date(BASE + minute * MINUTE);

/** Column types of the generated inputs when written as Parquet. */
const columnTypes: Record<string, string> = {
  driver_id: "BIGINT",
  zone_id: "INTEGER",
  ts: "TIMESTAMPTZ",
  created: "TIMESTAMPTZ",
  label_ts: "TIMESTAMPTZ",
  a_f: "DOUBLE",
  a_i: "BIGINT",
  label: "BIGINT",
};

const driver = entity({ name: "driver", joinKeys: ["driver_id"], valueType: Int64 });
const zone = entity({ name: "zone", joinKeys: ["city", "zone_id"], valueType: { city: StringType, zone_id: Int32 } });

// Small domains on purpose: they force ties, exact-time equalities and TTL boundaries.
const minuteArb = fc.integer({ min: 0, max: 24 });
const nullable = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.option(arb, { nil: null, freq: 4 });
const double = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map((d) => (Object.is(d, -0) ? 0 : d));
const aRow = fc.record({ driver_id: fc.integer({ min: 1, max: 4 }), minute: minuteArb, createdLag: fc.integer({ min: -2, max: 8 }), a_f: nullable(double), a_i: nullable(fc.integer({ min: -500, max: 500 })) });
const bRow = fc.record({ city: fc.constantFrom("ams", "ber"), zone_id: fc.integer({ min: 1, max: 2 }), minute: minuteArb, createdLag: fc.integer({ min: -2, max: 8 }), b_s: nullable(fc.constantFrom("x", "y", "z w", 'q"uote')) });
const entityRow = fc.record({ driver_id: fc.integer({ min: 0, max: 4 }), city: fc.constantFrom("ams", "ber", "cph"), zone_id: fc.integer({ min: 1, max: 2 }), minute: minuteArb, label: fc.integer({ min: 0, max: 1 }) });
/** Rows split into up to three ingestions (ties across commits take the slower tie-breaking plan). */
const batches = <T>(row: fc.Arbitrary<T>): fc.Arbitrary<T[][]> => fc.array(fc.array(row, { maxLength: 14 }), { minLength: 1, maxLength: 3 });

const scenario = fc.record({
  a: batches(aRow),
  b: batches(bRow),
  entities: fc.array(entityRow, { minLength: 1, maxLength: 14 }),
  ttlA: nullable(fc.integer({ min: 1, max: 8 })),
  ttlB: nullable(fc.integer({ min: 1, max: 8 })),
  inclusive: fc.boolean(),
  asOfIngestion: fc.boolean(),
  fullNames: fc.boolean(),
  inputFormat: fc.constantFrom("csv", "parquet"),
  entityInput: fc.constantFrom("rows", "csv", "parquet"),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer S> ? S : never;

describe("point-in-time retrieval matches a brute-force oracle", () => {
  let store: FeatureStore;
  let dir: string;
  let writer: DuckDb;
  let caseNo = 0;

  before(async () => {
    ({ store, dir } = await openProject());
    writer = await DuckDb.open();
  });
  after(async () => {
    await store.close();
    writer.close();
  });

  /** Writes rows as CSV, or as typed Parquet (as a data tool would) by way of an independent DuckDB. */
  async function writeInput(name: string, columns: string[], rows: Record<string, unknown>[], format: string): Promise<string> {
    const csv = join(dir, `${name}.csv`);
    await writeFile(csv, toCsv(columns, rows));
    if (format === "csv") return csv;
    const parquet = join(dir, `${name}.parquet`);
    const types = `{${columns.map((c) => `'${c}': '${columnTypes[c] ?? "VARCHAR"}'`).join(", ")}}`;
    await writer.run(`COPY (SELECT * FROM read_csv('${csv}', header = true, types = ${types})) TO '${parquet}' (FORMAT parquet)`);
    return parquet;
  }

  async function runScenario(s: Scenario): Promise<void> {
    const n = ++caseNo;
    const a = featureView({
      name: `a_${n}`,
      entities: [driver],
      ttl: s.ttlA === null ? undefined : s.ttlA * 60,
      schema: { a_f: Float64, a_i: Int64 },
      source: batchSource({ path: `a_${n}.csv`, timestampField: "ts", createdTimestampField: "created" }),
    });
    const b = featureView({
      name: `b_${n}`,
      entities: [zone],
      ttl: s.ttlB === null ? undefined : s.ttlB * 60,
      schema: { b_s: StringType },
      source: batchSource({ path: `b_${n}.csv`, timestampField: "ts", createdTimestampField: "created" }),
    });
    await store.apply(compileDefinitions(collectDefinitions({ a, b })));

    const oracleRows: Record<string, OracleFeatureRow[]> = { a: [], b: [] };
    for (const [view, data, keys, features] of [
      ["a", s.a, ["driver_id"], ["a_f", "a_i"]],
      ["b", s.b, ["city", "zone_id"], ["b_s"]],
    ] as const) {
      for (const [i, batch] of (data as Record<string, unknown>[][]).entries()) {
        const rows: Record<string, unknown>[] = batch.map((r) => ({ ...r, ts: at(r.minute as number), created: at((r.minute as number) + (r.createdLag as number)) }));
        const file = await writeInput(`${view}_${n}_${i}`, [...keys, "ts", "created", ...features], rows, s.inputFormat);
        await store.ingest(`${view}_${n}`, { file });
        for (const r of rows) {
          oracleRows[view]!.push({
            keys: Object.fromEntries(keys.map((k) => [k, r[k]])),
            ts: (r.ts as Date).getTime(),
            created: (r.created as Date).getTime(),
            values: Object.fromEntries(features.map((f) => [f, r[f]])),
          });
        }
      }
    }

    const entityRows = s.entities.map((e) => ({ driver_id: e.driver_id, city: e.city, zone_id: e.zone_id, label_ts: at(e.minute), label: e.label }));
    const entityColumns = ["driver_id", "city", "zone_id", "label_ts", "label"];
    const entities = s.entityInput === "rows" ? entityRows : await writeInput(`entities_${n}`, entityColumns, entityRows, s.entityInput);
    const set = await store.getHistoricalFeatures({
      entities,
      features: [`a_${n}:a_f`, `a_${n}:a_i`, `b_${n}:b_s`],
      timestampColumn: "label_ts",
      inclusive: s.inclusive,
      asOfIngestion: s.asOfIngestion,
      fullFeatureNames: s.fullNames,
    });
    const out = await set.toRows();
    await set.close();

    const name = (view: string, f: string): string => (s.fullNames ? `${view}_${n}__${f}` : f);
    assert.deepEqual(set.columns.map((c) => c.name), [...entityColumns, name("a", "a_f"), name("a", "a_i"), name("b", "b_s")]);
    assert.equal(out.length, entityRows.length, "every entity row exactly once");
    let matchedA = 0;
    for (const [i, e] of entityRows.entries()) {
      const row = out[i]!;
      assert.deepEqual([row.driver_id, row.city, row.zone_id, row.label], [e.driver_id, e.city, e.zone_id, e.label], `row ${i} keeps input order and columns`);
      assert.equal((row.label_ts as Date).getTime(), e.label_ts.getTime());
      const options = { inclusive: s.inclusive, asOfIngestion: s.asOfIngestion };
      const t = e.label_ts.getTime();
      const expectA = acceptableValues(oracleRows.a!, ["a_f", "a_i"], s.ttlA === null ? null : s.ttlA * MINUTE, { driver_id: e.driver_id }, t, options);
      const expectB = acceptableValues(oracleRows.b!, ["b_s"], s.ttlB === null ? null : s.ttlB * MINUTE, { city: e.city, zone_id: e.zone_id }, t, options);
      const gotA = { a_f: row[name("a", "a_f")], a_i: row[name("a", "a_i")] };
      const gotB = { b_s: row[name("b", "b_s")] };
      assert.ok(expectA.some((x) => isDeepEqual(x, gotA)), `row ${i} view a: got ${JSON.stringify(gotA)}, expected one of ${JSON.stringify(expectA)}`);
      assert.ok(expectB.some((x) => isDeepEqual(x, gotB)), `row ${i} view b: got ${JSON.stringify(gotB)}, expected one of ${JSON.stringify(expectB)}`);
      if (hasCandidate(oracleRows.a!, e.driver_id, t, s.ttlA, options)) matchedA++;
    }
    assert.equal(set.views[0]?.matched, matchedA, "match count of view a");
  }

  it("holds for generated data (ties, exact times, TTL edges, nulls, duplicates, two-column keys, as-of-ingestion)", async () => {
    await fc.assert(fc.asyncProperty(scenario, (s) => runScenario(s).catch(logAndRethrow)), { numRuns: Number(process.env.STRATA_PIT_RUNS ?? 60), endOnFailure: true });
  });
});

function hasCandidate(rows: readonly OracleFeatureRow[], driverId: number, t: number, ttl: number | null, o: { inclusive: boolean; asOfIngestion: boolean }): boolean {
  return rows.some(
    (r) => r.keys.driver_id === driverId && (o.inclusive ? r.ts <= t : r.ts < t) && (ttl === null || r.ts >= t - ttl * MINUTE) && (!o.asOfIngestion || r.created <= t),
  );
}

/** fast-check reports the counterexample; this keeps the underlying error (and its stack) visible too. */
function logAndRethrow(error: unknown): never {
  console.error("scenario failed:", error);
  throw error;
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}
