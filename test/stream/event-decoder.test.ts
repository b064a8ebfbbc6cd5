import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { aggregationView, batchSource, collectDefinitions, compileDefinitions, entity, Float32, Float64, Int64 } from "../../src/index.js";
import { eventDecoder } from "../../src/stream/event-decoder.js";
import { coerceValue } from "../../src/online/coerce-value.js";
import { encodeValue } from "../../src/online/value-codec.js";
import { valueTypeFromName } from "../../src/definitions/value-type.js";

const card = entity({ name: "card", joinKeys: ["card_id"], valueType: Int64 });
const view = aggregationView({
  name: "tx",
  entities: [card],
  schema: { amount: Float64, rate: Float32 },
  source: batchSource({ path: "tx.parquet", timestampField: "ts" }),
  aggregations: [
    { column: "amount", function: "sum", window: "1h" },
    { column: "rate", function: "max", window: "1h" },
  ],
  allowedLateness: "1m",
});
const spec = compileDefinitions(collectDefinitions({ view })).featureViews[0]!;

describe("a stream processor's event decoder", () => {
  it("gives each column the value the online write path's coercion and encoding give (the oracle)", () => {
    const decode = eventDecoder(spec);
    const oracle = (type: string, v: unknown): unknown => {
      const t = valueTypeFromName(type)!;
      const coerced = coerceValue(t, v ?? null, "x");
      return coerced === null ? null : encodeValue(t, coerced);
    };
    // As JSON text: "-0" parses to -0, which JSON.stringify would not write.
    const samples = ["0", "-0", "0.1", "-3.5", "5", "-1e-300", "3e38", "9007199254740994", '"NaN"', '"-Infinity"', "null", undefined];
    for (const v of samples) {
      const body = v === undefined ? '{"card_id":7,"ts":1704067200123}' : `{"card_id":7,"ts":1704067200123,"amount":${v},"rate":${v}}`;
      const given: unknown = v === undefined ? undefined : JSON.parse(v);
      const event = decode(body);
      assert.deepEqual(event.values, { amount: oracle("Float64", given), rate: oracle("Float32", given) }, String(v));
      assert.equal(event.entityKey, "7");
      assert.equal(event.ts, 1_704_067_200_123_000);
    }
  });

  it("refuses what the coercion refuses, naming the field", () => {
    const decode = eventDecoder(spec);
    assert.throws(() => decode(JSON.stringify({ card_id: 7, ts: 1, amount: "12" })), /amount/);
    assert.throws(() => decode("[1]"), /not a JSON object/);
  });
});
