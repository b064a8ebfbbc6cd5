// Straight from the definition modules, not src/index.js: that also loads DuckDB, which makes
// every child process of sqlite-cross-process.test.ts slow to boot.
import { batchSource } from "../../src/definitions/batch-source.js";
import { collectDefinitions, type Definition } from "../../src/definitions/collect-definitions.js";
import { compileDefinitions } from "../../src/definitions/compile-definitions.js";
import { entity } from "../../src/definitions/entity.js";
import { featureService, select, type FeatureService } from "../../src/definitions/feature-service.js";
import { featureView, type FeatureView, type FeatureViewInput } from "../../src/definitions/feature-view.js";
import type { FeatureViewSpec, RepoSpec } from "../../src/definitions/specs.js";
import { Float32, Int64, String as StringType } from "../../src/definitions/value-type.js";

/**
 * Definitions the plan/apply suites start from, written with the public SDK as users write
 * them, plus the compiled spec of the base view spelled out by hand (so tests compare with
 * what we expect, not with what the compiler happens to produce).
 */
export const driver = entity({ name: "driver", joinKeys: ["driver_id"] });
export const rider = entity({ name: "rider", joinKeys: ["rider_id"], valueType: StringType });

/** driver_stats: conv_rate Float32 and trips Int64 per driver, ttl 2d; `overrides` change one thing. */
export function driverStats(overrides: Partial<FeatureViewInput> = {}): FeatureView {
  return featureView({
    name: "driver_stats",
    entities: [driver],
    ttl: "2d",
    schema: { conv_rate: Float32, trips: Int64 },
    source: batchSource({ path: "data/driver_stats.parquet", timestampField: "event_timestamp" }),
    ...overrides,
  });
}

/** The "ranking" service: conv_rate of the given view. */
export function ranking(view: FeatureView): FeatureService {
  return featureService({ name: "ranking", features: [select(view, ["conv_rate"])] });
}

export function repoOf(...definitions: Definition[]): RepoSpec {
  return compileDefinitions(collectDefinitions({ definitions }));
}

/** driver + driver_stats (with `overrides`) + ranking reading it: the usual repo. */
export function statsRepo(overrides: Partial<FeatureViewInput> = {}): RepoSpec {
  const view = driverStats(overrides);
  return repoOf(view, ranking(view));
}

export const baseStatsSpec: FeatureViewSpec = {
  name: "driver_stats",
  entities: ["driver"],
  joinKeys: [{ name: "driver_id", type: "Int64" }],
  features: [
    { name: "conv_rate", type: "Float32", description: "" },
    { name: "trips", type: "Int64", description: "" },
  ],
  ttlSeconds: 172_800,
  online: true,
  pushSource: null,
  source: {
    kind: "batch",
    name: "data/driver_stats.parquet",
    path: "data/driver_stats.parquet",
    format: "parquet",
    timestampField: "event_timestamp",
    createdTimestampField: null,
    fieldMapping: {},
  },
  description: "",
  owner: "",
  tags: {},
};
