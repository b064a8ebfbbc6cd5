import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { arrayOf, Bytes, Float32, Int32, Int64, String as StringType, Timestamp } from "../../src/index.js";
import { coerceValue } from "../../src/online/coerce-value.js";
import { entityKey } from "../../src/online/entity-key.js";
import { decodeValue, encodeValue } from "../../src/online/value-codec.js";

describe("entity keys", () => {
  const single = [{ name: "driver_id", type: "Int64" }];
  const composite = [{ name: "city", type: "String" }, { name: "zone", type: "Int32" }];

  it("are the same text whatever form the key arrived in", () => {
    for (const form of [1001, 1001n, "1001"]) assert.equal(entityKey(single, { driver_id: form }), "1001");
    assert.equal(entityKey(composite, { city: 'a,"b', zone: 2 }), '"a,\\"b",2');
    assert.notEqual(entityKey(composite, { city: "a", zone: 12 }), entityKey(composite, { city: "a,1", zone: 2 }), "no ambiguity");
  });

  it("reject the wrong type, naming the key", () => {
    assert.throws(() => entityKey(single, { driver_id: "abc" }), { code: "REQUEST_INVALID", message: /join key "driver_id" must be an Int64 integer, got "abc"/ });
    assert.throws(() => entityKey(single, { driver_id: 1.5 }), { code: "REQUEST_INVALID" });
    assert.throws(() => entityKey(composite, { city: 7, zone: 1 }), { message: /"city" must be a string/ });
    assert.throws(() => entityKey(composite, { city: "a", zone: 2 ** 31 }), { message: /"zone" must be an Int32/ });
    assert.throws(() => entityKey(single, {}), { message: /got nothing/ });
  });
});

describe("online values", () => {
  it("encode to JSON and decode back exactly", () => {
    const cases: [Parameters<typeof encodeValue>[0], unknown][] = [
      [Int64, 2n ** 62n],
      [Int64, 42],
      [Float32, Number.NaN],
      [Float32, -Infinity],
      [Timestamp, new Date("2024-01-01T00:00:00.123Z")],
      [Bytes, Buffer.from([0, 255, 10])],
      [arrayOf(Int64), [1, 2n ** 60n]],
      [StringType, null],
    ];
    for (const [type, value] of cases) {
      const decoded = decodeValue(type, JSON.parse(JSON.stringify(encodeValue(type, value))) as never);
      const expected = value instanceof Date ? value.getTime() * 1000 : value;
      assert.deepEqual(decoded, expected, `${type.name} ${String(value)}`);
    }
  });

  it("are checked against their type when written, naming row and column", () => {
    assert.equal(coerceValue(Int32, "12", "row 1"), 12);
    assert.throws(() => coerceValue(Int32, 2 ** 31, "row 1, column \"n\""), { message: /row 1, column "n": 2147483648 is not a valid Int32/ });
    assert.throws(() => coerceValue(Float32, "x", "row 2"), { message: /"x" is not a valid Float32/ });
    assert.throws(() => coerceValue(Timestamp, 123, "row 3"), { message: /is not a timestamp/ });
    assert.equal(coerceValue(Timestamp, "2024-01-01 00:00:00", "r"), Date.UTC(2024, 0, 1) * 1000, "naive times are UTC, in µs");
    assert.equal(coerceValue(Timestamp, "2024-01-01T00:00:00.123456+01:00", "r"), (Date.UTC(2023, 11, 31, 23) + 123) * 1000 + 456, "microseconds kept");
    assert.equal(coerceValue(Float32, 0.1, "r"), Math.fround(0.1), "stored as a float32, as offline");
    assert.throws(() => coerceValue(Float32, 1e300, "row 4"), { message: /row 4: 1e\+300 is out of range for a Float32/ });
    assert.deepEqual(coerceValue(arrayOf(Float32), [1, "NaN"], "r"), [1, Number.NaN]);
  });
});
