import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { arrayOf, batchSource, Bool, Bytes, collectDefinitions, compileDefinitions, entity, featureView, Float32, Float64, Int32, Int64, String as StringType, Timestamp } from "../../src/index.js";
import type { FeatureStore } from "../../src/feature-store.js";
import { openProject } from "../helpers/project.js";

/** Every value type survives ingest → offline Parquet → training set, as rows and as Arrow. */
describe("value types round-trip", () => {
  let store: FeatureStore;
  before(async () => {
    ({ store } = await openProject());
    const user = entity({ name: "user", joinKeys: ["user_id"], valueType: StringType });
    const schema = { i32: Int32, i64: Int64, f32: Float32, f64: Float64, s: StringType, b: Bool, t: Timestamp, raw: Bytes, emb: arrayOf(Float32), ids: arrayOf(Int64) };
    await store.apply(compileDefinitions(collectDefinitions({ v: featureView({ name: "typed", entities: [user], schema, source: batchSource({ path: "typed.parquet", timestampField: "ts" }) }) })));
    const file = join(store.config.projectDir, "typed.parquet");
    const engine = await store.engine();
    // A typed Parquet file as a data tool writes it, including a row of nulls.
    await engine.run(`COPY (
      SELECT 'u1' AS user_id, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS ts, 7::INTEGER AS i32, 9007199254740993::BIGINT AS i64, 0.5::FLOAT AS f32, 0.1::DOUBLE AS f64,
             'héllo, "w"' AS s, true AS b, TIMESTAMPTZ '2023-06-01 12:34:56.789012+00' AS t, '\\xDE\\xAD'::BLOB AS raw, [0.25, -1.5]::FLOAT[] AS emb, [1, 2, 3]::BIGINT[] AS ids
      UNION ALL
      SELECT 'u2', TIMESTAMPTZ '2024-01-01 00:00:00+00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    ) TO '${file}' (FORMAT parquet)`);
    await store.ingest("typed");
  });
  after(() => store.close());

  const request = {
    entities: [
      { user_id: "u1", event_timestamp: new Date("2024-01-02T00:00:00Z") },
      { user_id: "u2", event_timestamp: new Date("2024-01-02T00:00:00Z") },
    ],
    features: ["i32", "i64", "f32", "f64", "s", "b", "t", "raw", "emb", "ids"].map((f) => `typed:${f}`),
  };

  it("as rows", async () => {
    const set = await store.getHistoricalFeatures(request);
    const [full, nulls] = await set.toRows();
    await set.close();
    assert.deepEqual({ ...full, raw: [...(full?.raw as Uint8Array)] }, {
      user_id: "u1",
      event_timestamp: new Date("2024-01-02T00:00:00Z"),
      i32: 7,
      i64: 9007199254740993n, // beyond 2^53: stays exact as a bigint
      f32: 0.5,
      f64: 0.1,
      s: 'héllo, "w"',
      b: true,
      t: new Date("2023-06-01T12:34:56.789Z"),
      raw: [0xde, 0xad],
      emb: [0.25, -1.5],
      ids: [1n, 2n, 3n],
    });
    assert.deepEqual(Object.values(nulls ?? {}).slice(2), Array.from({ length: 10 }, () => null));
  });

  it("as Arrow, with exact microseconds", async () => {
    const set = await store.getHistoricalFeatures(request);
    const table = await set.toArrow();
    await set.close();
    assert.deepEqual(
      table.schema.fields.map((f) => `${f.name}:${String(f.type)}`),
      [
        "user_id:Utf8",
        "event_timestamp:Timestamp<MICROSECOND, UTC>",
        "i32:Int32",
        "i64:Int64",
        "f32:Float32",
        "f64:Float64",
        "s:Utf8",
        "b:Bool",
        "t:Timestamp<MICROSECOND, UTC>",
        "raw:Binary",
        "emb:List<Float32>",
        "ids:List<Int64>",
      ],
    );
    assert.equal(table.getChild("t")?.get(0), 1685622896789.012); // Arrow JS reads timestamps as (fractional) epoch ms
    assert.equal((table.getChild("t")?.data[0]?.values as BigInt64Array)[0], 1685622896789012n, "stored microseconds are exact");
    assert.deepEqual([...(table.getChild("emb")?.get(0) as Iterable<number>)], [0.25, -1.5]);
    assert.equal(table.getChild("i64")?.get(1), null);
  });
});
