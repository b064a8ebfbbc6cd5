import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  arrayOf,
  batchSource,
  collectDefinitions,
  compileDefinitions,
  DefinitionError,
  entity,
  featureService,
  featureView,
  Float32,
  Int64,
  select,
  String as StringType,
  type FeatureViewInput,
} from "../../src/index.js";

const driver = entity({ name: "driver", joinKeys: ["driver_id"] });
const source = batchSource({ path: "data/driver_stats.parquet", timestampField: "event_timestamp" });
const view = (overrides: Partial<FeatureViewInput> = {}): ReturnType<typeof featureView> =>
  featureView({ name: "stats", entities: [driver], schema: { conv_rate: Float32 }, source, ...overrides });

function problemsOf(definitions: Record<string, unknown>): string[] {
  try {
    compileDefinitions(collectDefinitions(definitions));
  } catch (error) {
    assert.ok(error instanceof DefinitionError);
    assert.equal(error.code, "DEFINITION_INVALID");
    return [...error.details];
  }
  assert.fail("expected a DefinitionError");
}

describe("compileDefinitions", () => {
  it("normalizes a repo: referenced entities and views are collected, types stored by name, ttl in seconds", () => {
    const stats = view({ ttl: "1d12h", schema: { conv_rate: Float32, emb: arrayOf(Float32), city: { type: StringType, default: "ams" } }, owner: "ml", tags: { b: "2", a: "1" } });
    const repo = compileDefinitions(collectDefinitions({ svc: featureService({ name: "svc", features: [select(stats, ["emb"])] }) }));
    assert.deepEqual(repo.entities.map((e) => [e.name, e.joinKeys]), [["driver", [{ name: "driver_id", type: "Int64" }]]]);
    const [spec] = repo.featureViews;
    assert.equal(spec?.ttlSeconds, 129_600);
    assert.deepEqual(spec?.features.map((f) => [f.name, f.type, f.default]), [["conv_rate", "Float32", undefined], ["emb", "Array<Float32>", undefined], ["city", "String", "ams"]]);
    assert.deepEqual(spec?.tags, { a: "1", b: "2" });
    assert.deepEqual(spec?.source, { kind: "batch", name: "data/driver_stats.parquet", path: "data/driver_stats.parquet", format: "parquet", timestampField: "event_timestamp", createdTimestampField: null, fieldMapping: {} });
    assert.deepEqual(repo.featureServices[0]?.features, [{ view: "stats", features: ["emb"] }]);
  });

  it("reports every problem at once, each naming its object and field", () => {
    const problems = problemsOf({
      a: view({ ttl: "2x", schema: { conv_rate: "float" as never, "bad name": Int64 } }),
      b: entity({ name: "rider", joinKeys: [], valueType: { nope: Int64 } }),
    });
    assert.deepEqual(problems, [
      'entity "rider" field "joinKeys": expected a non-empty list of column names',
      'entity "rider" field "valueType.nope": "nope" is not one of the join keys ()',
      'featureView "stats" field "schema.conv_rate": unknown type "float" (expected one of Int32, Int64, Float32, Float64, String, Bool, Timestamp, Bytes, Array<Int32>, Array<Int64>, Array<Float32>, Array<Float64>)',
      'featureView "stats" field "schema.bad name": "bad name" is not a valid name (letters, digits and _, not starting with a digit)',
      'featureView "stats" field "ttl": bad duration "2x": expected e.g. "90s", "15m", "2h", "7d", "1w" or "1d12h"',
    ]);
  });

  it("rejects duplicate names within and across kinds, but accepts the same definition twice", () => {
    assert.deepEqual(problemsOf({ a: view(), b: view({ description: "other" }) }), ['featureView "stats" field "name": is defined twice, differently']);
    assert.deepEqual(problemsOf({ a: view({ name: "driver" }) }), ['featureView "driver" field "name": is also the name of an entity; names must be unique across entities, views and services']);
    assert.equal(compileDefinitions(collectDefinitions({ a: view(), b: view() })).featureViews.length, 1);
  });

  it("checks join keys, sources, services and defaults", () => {
    const rider = entity({ name: "rider", joinKeys: ["driver_id"] });
    assert.deepEqual(problemsOf({ v: view({ entities: [driver, rider] }) }), [
      'featureView "stats" field "entities[1]": join key "driver_id" of entity "rider" is also a join key of another entity of this view',
    ]);
    assert.deepEqual(problemsOf({ v: view({ schema: { driver_id: Int64 } }) }), [
      'featureView "stats" field "schema.driver_id": "driver_id" is a join key or a column the offline store reserves (event_timestamp, created_timestamp, date), not a feature',
    ]);
    assert.deepEqual(problemsOf({ v: view({ schema: { date: StringType } }) }), [
      'featureView "stats" field "schema.date": "date" is a join key or a column the offline store reserves (event_timestamp, created_timestamp, date), not a feature',
    ]);
    assert.deepEqual(problemsOf({ v: view({ source: batchSource({ path: "data/x.json", timestampField: "" }) }) }), [
      'featureView "stats" field "source.format": cannot tell the format of "data/x.json": use a .parquet or .csv path, or set format',
      'featureView "stats" field "source.timestampField": expected the name of the event timestamp column',
    ]);
    assert.deepEqual(problemsOf({ s: featureService({ name: "svc", features: [select(view(), ["nope"])] }) }), ['featureService "svc" field "features[0]": feature view "stats" has no feature "nope" (it has conv_rate)']);
    assert.deepEqual(problemsOf({ v: view({ schema: { n: { type: Int64, default: 1.5 } } }) }), ['featureView "stats" field "schema.n.default": 1.5 is not an Int64']);
    assert.deepEqual(problemsOf({ e: entity({ name: "e", valueType: Float32 }) }), ['entity "e" field "valueType": join key "e" must be Int32, Int64 or String, got Float32']);
  });
});
