import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { chooseSearch, searchCtes, type PositionSearch } from "../../src/aggregation/position-search-sql.js";
import { DuckDb } from "../../src/offline/duckdb.js";

const sortedTimes = fc.array(fc.integer({ min: -20, max: 20 }), { maxLength: 40 }).map((times) => times.sort((a, b) => a - b));

/**
 * A block's sorted event times (ties included), an earlier day's (or NULL), and two targets:
 * values in the lists, between, outside, or NULL. `x` is searched in the block's times, `x0` in
 * the list `pick` chooses per row.
 */
const row = fc.record({ times: sortedTimes, earlier: fc.option(sortedTimes, { nil: null, freq: 5 }), pick: fc.constantFrom(0, 1) }).chain((lists) => {
  const all = [...lists.times, ...(lists.earlier ?? [])];
  const target = fc.option(fc.oneof(fc.integer({ min: -25, max: 25 }), ...(all.length > 0 ? [fc.constantFrom(...all)] : [])), { nil: null, freq: 6 });
  return fc.record({ x: target, x0: target }).map((xs): Row => ({ ...lists, ...xs }));
});
interface Row {
  readonly times: number[];
  readonly earlier: number[] | null;
  readonly pick: number;
  readonly x: number | null;
  readonly x0: number | null;
}

/** The oracle: events strictly before the target; none for a NULL target or list. */
const before_ = (times: readonly number[] | null, x: number | null): number => (x === null || times === null ? 0 : times.filter((t) => t < x).length);

const targets = [
  { suffix: "", within: (f: (times: string) => string) => f("__ets") },
  { suffix: "0", within: (f: (times: string) => string) => `CASE __pick WHEN 0 THEN ${f("__ets")} WHEN 1 THEN ${f("__d1__ets")} END` },
];

describe("position search over a block's sorted event times (real DuckDB)", () => {
  let duck: DuckDb;
  before(async () => {
    duck = await DuckDb.open();
  });
  after(() => duck.close());

  async function positions(search: PositionSearch, rows: readonly Row[]): Promise<[number, number][]> {
    const most = Math.max(0, ...rows.flatMap((r) => [r.times.length, r.earlier?.length ?? 0]));
    const literal = (v: number | null): string => (v === null ? "NULL" : `${v}::BIGINT`);
    const list = (times: readonly number[] | null): string => (times === null ? "NULL::BIGINT[]" : `[${times.join(", ")}]::BIGINT[]`);
    const values = rows.map((r, id) => `(${id}, ${list(r.times)}, ${list(r.earlier)}, ${r.pick}, ${literal(r.x)}, ${literal(r.x0)})`).join(", ");
    const ctes = searchCtes(search, targets, most, "j");
    const sql = `WITH j AS (SELECT id, __ets, __d1__ets, __pick, __x, __x0, 0 AS __i, 0 AS __i0 FROM (VALUES ${values}) v(id, __ets, __d1__ets, __pick, __x, __x0)), ${ctes.join(", ")} SELECT __i, __i0 FROM s${ctes.length} ORDER BY id`;
    return (await duck.rows(sql)).map((r) => [Number(r.__i), Number(r.__i0)]);
  }

  for (const search of ["scan", "bisect"] as const) {
    it(`${search}: counts the events before each target in the list its row picks, as a brute force does (ties, empty and NULL lists, NULL and out-of-range targets)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 30 }), async (rows) => {
          const expected = rows.map((r): [number, number] => [before_(r.times, r.x), before_(r.pick === 0 ? r.times : r.earlier, r.x0)]);
          assert.deepEqual(await positions(search, rows), expected);
        }),
        { numRuns: 60 },
      );
    });
  }

  it("a bisection has one layer per halving of the largest block; a scan one", () => {
    assert.equal(searchCtes("bisect", targets, 63, "j").length, 6);
    assert.equal(searchCtes("bisect", targets, 64, "j").length, 7);
    assert.equal(searchCtes("scan", targets, 1_000, "j").length, 1);
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
