import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { aggregationView, batchSource, collectDefinitions, compileDefinitions, entity, Float32, Float64, Int32, Int64, String as StringType } from "../../src/index.js";
import type { FeatureStore } from "../../src/feature-store.js";
import { DuckDb } from "../../src/offline/duckdb.js";
import { runCli } from "../helpers/cli.js";
import { toCsv } from "../helpers/csv.js";
import { openProject } from "../helpers/project.js";

/** `strata parity` on generated data with several views (one with a two-column key): agreement, and a detected drift. */
describe("strata parity", () => {
  let store: FeatureStore;
  let dir: string;

  before(async () => {
    ({ dir, store } = await openProject());
    const card = entity({ name: "card", joinKeys: ["card_id"], valueType: Int64 });
    const shop = entity({ name: "shop", joinKeys: ["city", "shop_id"], valueType: { city: StringType, shop_id: Int32 } });
    const cards = aggregationView({
      name: "card_activity",
      entities: [card],
      schema: { amount: Float64, fee: Float32, merchant: StringType },
      source: batchSource({ path: "cards.csv", timestampField: "ts", createdTimestampField: "created" }),
      aggregations: [
        { column: "*", function: "count", window: "1h" },
        { column: "amount", function: "sum", window: "2h" },
        { column: "amount", function: "mean", window: "1d" },
        { column: "fee", function: "max", window: "30m", hop: "10m" },
        { column: "merchant", function: "last", window: "6h", hop: "1h" },
      ],
    });
    const shops = aggregationView({
      name: "shop_sales",
      entities: [shop],
      schema: { qty: Int64 },
      source: batchSource({ path: "shops.csv", timestampField: "ts", createdTimestampField: "created" }),
      aggregations: [
        { column: "qty", function: "sum", window: "3h" },
        { column: "qty", function: "min", window: "15d" },
      ],
    });
    await store.apply(compileDefinitions(collectDefinitions({ cards, shops })));
    let seed = 3;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const base = Date.UTC(2024, 4, 1);
    const time = (): number => base + Math.floor(random() * 3 * 86_400) * 1000;
    const iso = (ms: number): string => new Date(ms).toISOString();
    const cardRows = Array.from({ length: 3000 }, () => {
      const ts = time();
      return { card_id: 1 + Math.floor(random() * 60), ts: iso(ts), created: iso(ts + Math.floor(random() * 7_200_000)), amount: random() < 0.1 ? null : Math.round(random() * 1e6) / 100, fee: Math.round(random() * 300) / 100, merchant: ["a", "b", "c", null][Math.floor(random() * 4)] };
    });
    const shopRows = Array.from({ length: 2000 }, () => {
      const ts = time();
      return { city: random() < 0.5 ? "ams" : "ber", shop_id: 1 + Math.floor(random() * 20), ts: iso(ts), created: iso(ts), qty: Math.floor(random() * 50) - 10 };
    });
    await writeFile(join(dir, "cards.csv"), toCsv(["card_id", "ts", "created", "amount", "fee", "merchant"], cardRows));
    await writeFile(join(dir, "shops.csv"), toCsv(["city", "shop_id", "ts", "created", "qty"], shopRows));
    await store.ingest("card_activity");
    await store.ingest("shop_sales");
  });
  after(() => store.close());

  it("finds no mismatch between streaming state and batch, for either view, and exits 0", async () => {
    for (const view of ["card_activity", "shop_sales"]) {
      const result = await runCli(["-C", dir, "parity", view, "--sample", "30", "--json"]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const report = JSON.parse(result.stdout) as { keys: number; comparisons: number; mismatches: number };
      assert.ok(report.keys >= 20 && report.comparisons > 300, `${view}: ${result.stdout}`);
      assert.equal(report.mismatches, 0);
    }
  });

  it("reports a drift (day blocks that disagree with the events) with examples, and exits 1", async () => {
    await store.backfill("shop_sales");
    const tile = join(store.config.offline.path, "shop_sales", "v1", "_tiles", "months", "month=2024-05", "blocks.duckdb");
    const duck = await DuckDb.open();
    await duck.run(`ATTACH '${tile}' AS tile; UPDATE tile.blocks SET __v_qty = list_transform(__v_qty, q -> q + 1); DETACH tile`);
    duck.close();
    const result = await runCli(["-C", dir, "parity", "shop_sales", "--sample", "40"]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /[1-9]\d* mismatches/);
    assert.match(result.stdout, /\(all events\) qty_sum_3h: streaming -?\d+, batch -?\d+/);
  });
});
