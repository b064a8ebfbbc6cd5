import type { EntityRecord, ServiceRecord, ViewVersionRecord } from "../../src/registry/registry-records.js";
import type { EntitySpec, FeatureViewSpec } from "../../src/definitions/specs.js";

/**
 * Hand-written registry rows for the store conformance suite: written literally (not produced
 * by the planner) so a round-trip is compared with values we chose, including the awkward
 * ones (non-ASCII text, nested JSON, array defaults, a removed version, two bindings).
 */
export const driverEntity: EntityRecord = {
  spec: {
    name: "driver",
    joinKeys: [{ name: "driver_id", type: "Int64" }],
    description: "A driver — «quoted» 'text'",
    owner: "ml@example.com",
    tags: { team: "ranking", tier: "gold" },
  },
  hash: "a".repeat(64),
  createdAt: "2024-01-01T00:00:00.000Z",
  updatedAt: "2024-01-02T00:00:00.000Z",
};

export function entityNamed(name: string, joinKey = `${name}_id`): EntityRecord {
  const spec: EntitySpec = { name, joinKeys: [{ name: joinKey, type: "String" }], description: "", owner: "", tags: {} };
  return { spec, hash: `hash-of-${name}`, createdAt: "2024-02-01T00:00:00.000Z", updatedAt: "2024-02-01T00:00:00.000Z" };
}

export function statsSpec(features: FeatureViewSpec["features"]): FeatureViewSpec {
  return {
    name: "driver_stats",
    entities: ["driver"],
    joinKeys: [{ name: "driver_id", type: "Int64" }],
    features,
    ttlSeconds: 172_800,
    online: true,
    pushSource: null,
    source: {
      kind: "batch",
      name: "stats",
      path: "data/driver_stats.parquet",
      format: "parquet",
      timestampField: "event_timestamp",
      createdTimestampField: null,
      fieldMapping: { conversion: "conv_rate" },
    },
    description: "",
    owner: "",
    tags: {},
  };
}

export const statsV1: ViewVersionRecord = {
  name: "driver_stats",
  version: 1,
  spec: statsSpec([
    { name: "conv_rate", type: "Float32", description: "share of accepted rides", default: 0.5 },
    { name: "trips", type: "Int64", description: "" },
  ]),
  hash: "b".repeat(64),
  createdAt: "2024-01-01T00:00:00.000Z",
  updatedAt: "2024-01-01T00:00:00.000Z",
  removedAt: "2024-03-01T12:34:56.789Z",
};

export const statsV2: ViewVersionRecord = {
  name: "driver_stats",
  version: 2,
  spec: statsSpec([
    { name: "conv_rate", type: "Float32", description: "share of accepted rides", default: 0.5 },
    { name: "trips", type: "Float64", description: "" },
    { name: "embedding", type: "Array<Float32>", description: "", default: [0, 0.25, -1] },
  ]),
  hash: "c".repeat(64),
  createdAt: "2024-02-01T00:00:00.000Z",
  updatedAt: "2024-02-15T00:00:00.000Z",
  removedAt: null,
};

export const rankingService: ServiceRecord = {
  spec: {
    name: "ranking",
    features: [
      { view: "driver_stats", features: ["conv_rate", "trips"] },
      { view: "rider_stats", features: ["rating"] },
    ],
    description: "ranks drivers",
    owner: "",
    tags: {},
  },
  hash: "d".repeat(64),
  bindings: { driver_stats: 2, rider_stats: 7 },
  createdAt: "2024-02-01T00:00:00.000Z",
  updatedAt: "2024-02-01T00:00:00.000Z",
};
