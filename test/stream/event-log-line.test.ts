import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { aggregationView, batchSource, collectDefinitions, compileDefinitions, entity, Float32, Int64, String as StringType } from "../../src/index.js";
import { eventDecoder } from "../../src/stream/event-decoder.js";
import { eventLogFormat } from "../../src/stream/event-log-line.js";
import { DuckDb } from "../../src/offline/duckdb.js";
import { tempDir } from "../helpers/temp-dir.js";
import { writeLines } from "../../src/offline/json-lines.js";
import { LineBatch } from "../../src/offline/line-batch.js";
import { join } from "node:path";

const card = entity({ name: "card", joinKeys: ["card_id"], valueType: Int64 });
const shop = entity({ name: "shop", joinKeys: ["shop"], valueType: StringType });
const view = aggregationView({
  name: "tx",
  entities: [card, shop],
  schema: { amount: Float32, note: StringType },
  source: batchSource({ path: "tx.parquet", timestampField: "ts" }),
  aggregations: [
    { column: "amount", function: "sum", window: "1h" },
    { column: "note", function: "last", window: "1h" },
  ],
  allowedLateness: "1m",
});
const spec = compileDefinitions(collectDefinitions({ view })).featureViews[0]!;

describe("a stream processor's event-log lines", () => {
  it("are JSON objects of the join keys, µs times and coerced event columns, as DuckDB reads them", async () => {
    const decode = eventDecoder(spec);
    const format = eventLogFormat(spec);
    const messages = [
      { card_id: 9007199254740993n.toString(), shop: 'a "quoted" \\ shop', ts: "2024-01-01T00:00:00.000001Z", amount: 0.1, note: null },
      { card_id: 7, shop: "ünï", ts: 1_704_067_200_123, amount: null, note: "line\nbreak" },
    ];
    const batch = new LineBatch();
    messages.forEach((m, i) => format.append(batch, decode(JSON.stringify(m)), 1_704_067_300_000_000 + i));
    assert.equal(batch.length, 2);
    const lines = Buffer.concat(batch.chunks()).toString("utf8").split("\n");
    assert.equal(lines.pop(), "", "each line ends with a newline");
    assert.deepEqual(JSON.parse(lines[1]!), { card_id: 7, shop: "ünï", ts: 1_704_067_200_123_000, created_timestamp: 1_704_067_300_000_001, amount: null, note: "line\nbreak" });
    assert.equal((JSON.parse(lines[0]!) as { amount: number }).amount, Math.fround(0.1), "Float32 rounded, as the online path coerces it");
    assert.deepEqual(format.keys(decode(JSON.stringify(messages[1]))), { card_id: 7, shop: "ünï" });
    const path = join(await tempDir(), "lines.json");
    await writeLines(path, batch);
    const duck = await DuckDb.open();
    try {
      const rows = await duck.rows(`SELECT card_id::VARCHAR AS card_id, shop, ts, created_timestamp, amount, note FROM read_json('${path}', format = 'newline_delimited', columns = {card_id: 'BIGINT', shop: 'VARCHAR', ts: 'BIGINT', created_timestamp: 'BIGINT', amount: 'FLOAT', note: 'VARCHAR'})`);
      assert.deepEqual(rows.map((r) => [r.card_id, r.shop, Number(r.ts), r.note]), [
        ["9007199254740993", 'a "quoted" \\ shop', 1_704_067_200_000_001, null],
        ["7", "ünï", 1_704_067_200_123_000, "line\nbreak"],
      ]);
    } finally {
      duck.close();
    }
  });
});
