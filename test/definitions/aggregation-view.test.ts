import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { aggregationView, batchSource, collectDefinitions, compileDefinitions, DefinitionError, entity, featureService, Float64, Int32, String as StringType, streamSource, type AggregationViewInput } from "../../src/index.js";
import { diffFeatureView } from "../../src/registry/diff-specs.js";

const card = entity({ name: "card", joinKeys: ["card_id"] });
const source = streamSource({ nats: { stream: "transactions", subject: "tx.*" }, timestampField: "ts", batch: batchSource({ path: "data/tx/*.parquet", timestampField: "ts" }) });
const view = (overrides: Partial<AggregationViewInput> = {}): ReturnType<typeof aggregationView> =>
  aggregationView({
    name: "card_activity",
    entities: [card],
    schema: { amount: Float64, merchant: StringType, qty: Int32 },
    source,
    aggregations: [
      { column: "amount", function: "sum", window: "1h" },
      { column: "amount", function: "max", window: "24h" },
      { column: "*", function: "count", window: "7d" },
      { column: "merchant", function: "last", window: "30d" },
      { column: "qty", function: "sum", window: "1h", hop: "15m" },
    ],
    allowedLateness: "5m",
    ...overrides,
  });
const compile = (v: ReturnType<typeof aggregationView>) => compileDefinitions(collectDefinitions({ v, s: featureService({ name: "fraud", features: [v] }) })).featureViews[0]!;

function problemsOf(v: ReturnType<typeof aggregationView>): string[] {
  try {
    compile(v);
  } catch (error) {
    assert.ok(error instanceof DefinitionError);
    return [...error.details];
  }
  assert.fail("expected definition problems");
}

describe("aggregation views", () => {
  it("compile to features named column_function_window with output types, default hops and one transform hash", () => {
    const spec = compile(view());
    assert.deepEqual(
      spec.features.map((f) => `${f.name}:${f.type}`),
      ["amount_sum_1h:Float64", "amount_max_1d:Float64", "count_7d:Int64", "merchant_last_30d:String", "qty_sum_1h:Int64"],
    );
    assert.deepEqual(spec.aggregation!.aggregates.map((a) => a.hopSeconds), [300, 3600, 3600, 86_400, 900]);
    assert.deepEqual(spec.aggregation!.nats, { stream: "transactions", subject: "tx.*" });
    assert.equal(spec.pushSource, "transactions", "the stream source is also a push source");
    assert.equal(spec.aggregation!.allowedLatenessSeconds, 300);
    assert.match(spec.aggregation!.transformHash, /^[0-9a-f]{64}$/);
  });

  it("name each problem's object and field", () => {
    const problems = problemsOf(
      view({
        aggregations: [
          { column: "amount", function: "median" as "sum", window: "1h" },
          { column: "nope", function: "sum", window: "1h" },
          { column: "merchant", function: "sum", window: "1h" },
          { column: "*", function: "max", window: "1h" },
          { column: "amount", function: "sum", window: "1h", hop: "7m" },
          { column: "amount", function: "min", window: "90m", hop: "1h" },
          { column: "amount", function: "count", window: "soon" },
        ],
        allowedLateness: "late",
      }),
    );
    const expect = [
      /aggregationView "card_activity" field "aggregations\[0\]\.function": unknown function "median"/,
      /field "aggregations\[1\]\.column": "nope" is not a column of the schema/,
      /field "aggregations\[2\]\.function": sum needs a numeric column, not String/,
      /field "aggregations\[3\]\.column": "\*" only counts events; max needs a column/,
      /field "aggregations\[4\]\.hop": a hop must divide one day/,
      /field "aggregations\[5\]\.hop": the window \(5400s\) must be a whole number of hops \(3600s\)/,
      /field "aggregations\[6\]\.window": bad duration "soon"/,
      /field "allowedLateness": bad duration "late"/,
    ];
    for (const pattern of expect) assert.ok(problems.some((p) => pattern.test(p)), `${pattern} in:\n${problems.join("\n")}`);
  });

  it("make a changed aggregate a breaking change, and a changed lateness an additive one", () => {
    const before = compile(view());
    const hop = compile(view({ aggregations: [{ column: "amount", function: "sum", window: "1h", hop: "10m" }] }));
    assert.ok(diffFeatureView(before, hop).breaking.some((b) => b.startsWith("aggregation:")));
    const lateness = diffFeatureView(before, compile(view({ allowedLateness: "10m" })));
    assert.deepEqual(lateness.breaking, []);
    assert.ok(lateness.additive.some((a) => a.startsWith("aggregation:")));
  });
});
