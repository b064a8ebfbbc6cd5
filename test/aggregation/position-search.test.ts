import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { chooseSearch, searchCtes, type PositionSearch } from "../../src/aggregation/position-search-sql.js";
import { DuckDb } from "../../src/offline/duckdb.js";

/** A block's sorted event times (ties included) and two targets: values in the list, between, outside, or NULL. */
const row = fc
  .array(fc.integer({ min: -20, max: 20 }), { maxLength: 40 })
  .map((times) => times.sort((a, b) => a - b))
  .chain((times) => {
    const target = fc.option(fc.oneof(fc.integer({ min: -25, max: 25 }), ...(times.length > 0 ? [fc.constantFrom(...times)] : [])), { nil: null, freq: 6 });
    return fc.record({ times: fc.constant(times), x: target, x0: target });
  });

/** The oracle: events strictly before the target; none for a NULL target. */
const before_ = (times: readonly number[], x: number | null): number => (x === null ? 0 : times.filter((t) => t < x).length);

describe("position search over a block's sorted event times (real DuckDB)", () => {
  let duck: DuckDb;
  before(async () => {
    duck = await DuckDb.open();
  });
  after(() => duck.close());

  async function positions(search: PositionSearch, rows: readonly { times: number[]; x: number | null; x0: number | null }[]): Promise<[number, number][]> {
    const most = Math.max(0, ...rows.map((r) => r.times.length));
    const literal = (v: number | null): string => (v === null ? "NULL" : `${v}::BIGINT`);
    const values = rows.map((r, id) => `(${id}, [${r.times.join(", ")}]::BIGINT[], ${literal(r.x)}, ${literal(r.x0)})`).join(", ");
    const ctes = searchCtes(search, ["", "0"], most, "j");
    const sql = `WITH j AS (SELECT id, __ets, __x, __x0, 0 AS __i, 0 AS __i0 FROM (VALUES ${values}) v(id, __ets, __x, __x0)), ${ctes.join(", ")} SELECT __i, __i0 FROM s${ctes.length} ORDER BY id`;
    return (await duck.rows(sql)).map((r) => [Number(r.__i), Number(r.__i0)]);
  }

  for (const search of ["scan", "bisect"] as const) {
    it(`${search}: counts the events before each target, as a brute force does (ties, empty blocks, NULL and out-of-range targets)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 30 }), async (rows) => {
          const expected = rows.map((r): [number, number] => [before_(r.times, r.x), before_(r.times, r.x0)]);
          assert.deepEqual(await positions(search, rows), expected);
        }),
        { numRuns: 60 },
      );
    });
  }

  it("a bisection has one layer per halving of the largest block; a scan one", () => {
    assert.equal(searchCtes("bisect", [""], 63, "j").length, 6);
    assert.equal(searchCtes("bisect", [""], 64, "j").length, 7);
    assert.equal(searchCtes("scan", [""], 1_000, "j").length, 1);
  });

  it("scans short blocks and bisects long ones", () => {
    assert.equal(chooseSearch({ maxBlockEvents: 63, meanBlockEvents: 17 }), "scan");
    assert.equal(chooseSearch({ maxBlockEvents: 0, meanBlockEvents: 0 }), "scan");
    assert.equal(chooseSearch({ maxBlockEvents: 100_000, meanBlockEvents: 5_000 }), "bisect");
    // The bound moves with the largest block: 6 events per halving.
    assert.equal(chooseSearch({ maxBlockEvents: 63, meanBlockEvents: 36 }), "scan");
    assert.equal(chooseSearch({ maxBlockEvents: 63, meanBlockEvents: 37 }), "bisect");
  });
});
