import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { entity, featureService, Float32, Float64, Int64, NotFoundError, select, type FeatureViewSpec, type RepoSpec } from "../../src/index.js";
import { applyRepo } from "../../src/registry/apply.js";
import { lineage } from "../../src/registry/lineage.js";
import type { RegistrySnapshot } from "../../src/registry/registry-records.js";
import type { RegistryStore } from "../../src/registry/registry-store.js";
import { definitionHash } from "../../src/util/canonical-json.js";
import { baseStatsSpec, driverStats, ranking, repoOf, rider } from "./definitions-fixtures.js";
import { sqliteBackend, StoreTracker } from "./registry-backends.js";

/**
 * `strata lineage` answers "what feeds this and what reads it": source → view versions →
 * services, asked from a view, a service or an entity. Lineage is computed from a snapshot,
 * so one backend (SQLite) is enough; both backends load identical snapshots (conformance).
 *
 * The registry built here: driver_stats v1 → v2 (retyped trips; ranking moves to v2),
 * driver_daily v1 (driver), rider_stats v1 (rider), service "daily" reading both daily views.
 */
const driverDaily = driverStats({ name: "driver_daily", schema: { trips_today: Int64 } });
const riderStats = driverStats({ name: "rider_stats", entities: [rider], schema: { rating: Float32 } });
const daily = featureService({ name: "daily", features: [select(driverDaily, ["trips_today"]), riderStats] });

function registryRepo(statsSchema: Record<string, typeof Float32>): RepoSpec {
  const stats = driverStats({ schema: statsSchema });
  return repoOf(stats, ranking(stats), daily);
}
const repoV1 = registryRepo({ conv_rate: Float32, trips: Int64 });
const repoV2 = registryRepo({ conv_rate: Float32, trips: Float64 });
const specOf = (repo: RepoSpec, name: string): FeatureViewSpec => repo.featureViews.find((v) => v.name === name)!;

/** The version entries a lineage should show, from what we applied (hash = identity of the definition we wrote). */
function expectedVersion(snapshot: RegistrySnapshot, spec: FeatureViewSpec, version: number, services: string[]): unknown {
  const record = snapshot.views.find((v) => v.name === spec.name && v.version === version)!;
  return { version, hash: definitionHash(spec), createdAt: record.createdAt, updatedAt: record.updatedAt, removedAt: record.removedAt, services };
}

describe("lineage: source → view versions → services", () => {
  const backend = sqliteBackend();
  backend.useInThisSuite();
  let registry: StoreTracker;
  let store: RegistryStore;
  let snapshot: RegistrySnapshot;
  beforeEach(async () => {
    registry = new StoreTracker(backend.isolate());
    store = registry.store("p");
    await applyRepo(store, repoV1, "alice");
    await applyRepo(store, repoV2, "alice");
    snapshot = await store.load();
  });
  afterEach(() => registry.closeAll());

  it("for a view: its source and every version, each with the services that read it", () => {
    assert.deepEqual(lineage(snapshot, "driver_stats"), {
      kind: "featureView",
      name: "driver_stats",
      views: [
        {
          name: "driver_stats",
          entities: ["driver"],
          source: baseStatsSpec.source,
          versions: [expectedVersion(snapshot, specOf(repoV1, "driver_stats"), 1, []), expectedVersion(snapshot, specOf(repoV2, "driver_stats"), 2, ["ranking"])],
        },
      ],
    });
    const [v1, v2] = snapshot.views.filter((v) => v.name === "driver_stats");
    assert.notEqual(v1?.hash, v2?.hash, "a breaking change is a different definition");
  });

  it("for a service: only the version of each view it is bound to, in the service's order", () => {
    assert.deepEqual(lineage(snapshot, "ranking"), {
      kind: "featureService",
      name: "ranking",
      views: [{ name: "driver_stats", entities: ["driver"], source: baseStatsSpec.source, versions: [expectedVersion(snapshot, specOf(repoV2, "driver_stats"), 2, ["ranking"])] }],
    });
    const dailyLineage = lineage(snapshot, "daily");
    assert.equal(dailyLineage.kind, "featureService");
    assert.deepEqual(
      dailyLineage.views.map((v) => ({ name: v.name, entities: v.entities, versions: v.versions.map((x) => [x.version, x.services]) })),
      [
        { name: "driver_daily", entities: ["driver"], versions: [[1, ["daily"]]] },
        { name: "rider_stats", entities: ["rider"], versions: [[1, ["daily"]]] },
      ],
    );
  });

  it("for an entity: every view of it (not other entities' views), with their versions", () => {
    const driverLineage = lineage(snapshot, "driver");
    assert.equal(driverLineage.kind, "entity");
    assert.deepEqual(
      driverLineage.views.map((v) => ({ name: v.name, versions: v.versions.map((x) => [x.version, x.services]) })),
      [
        { name: "driver_daily", versions: [[1, ["daily"]]] },
        { name: "driver_stats", versions: [[1, []], [2, ["ranking"]]] },
      ],
    );
    assert.deepEqual(lineage(snapshot, "rider").views.map((v) => v.name), ["rider_stats"]);
  });

  it("keeps a removed view's history: versions show when they were removed and no service reads them", async () => {
    const stats = driverStats({ schema: { conv_rate: Float32, trips: Float64 } });
    await applyRepo(store, repoOf(stats, ranking(stats), featureService({ name: "daily", features: [riderStats] })), "bob");
    const after = await store.load();
    const [removed] = lineage(after, "driver_daily").views;
    assert.equal(removed?.versions.length, 1);
    assert.equal(typeof removed?.versions[0]?.removedAt, "string", "v1 carries its removal time");
    assert.deepEqual(removed?.versions[0]?.services, []);
  });

  it("reports an unknown name as NOT_FOUND", () => {
    assert.throws(() => lineage(snapshot, "no_such_thing"), (error: unknown) => error instanceof NotFoundError && error.code === "NOT_FOUND");
  });

  it(
    "answers for the live entity when a removed view once had the same name",
    async () => {
      const tripsToday = entity({ name: "driver_daily", joinKeys: ["day_id"] });
      const stats = driverStats({ schema: { conv_rate: Float32, trips: Float64 } });
      const dailyStats = driverStats({ name: "day_totals", entities: [tripsToday], schema: { total: Float64 } });
      await applyRepo(store, repoOf(stats, ranking(stats), featureService({ name: "daily", features: [riderStats] }), dailyStats), "bob");
      const result = lineage(await store.load(), "driver_daily");
      assert.equal(result.kind, "entity");
      assert.deepEqual(result.views.map((v) => v.name), ["day_totals"]);
    },
  );
});
