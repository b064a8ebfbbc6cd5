import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { entity, Float64, Float32, Int64, NotFoundError, String as StringType, type FeatureViewInput } from "../../src/index.js";
import { applyRepo } from "../../src/registry/apply.js";
import { computePlan, type PlanChange } from "../../src/registry/plan.js";
import { removeVersionWrites } from "../../src/registry/plan-writes.js";
import { activeVersions, emptySnapshot, viewNames } from "../../src/registry/registry-records.js";
import type { RegistryStore } from "../../src/registry/registry-store.js";
import { resolveFeatureRefs } from "../../src/registry/resolve-features.js";
import { baseStatsSpec, driver, repoOf, rider, statsRepo } from "./definitions-fixtures.js";
import { allBackends, StoreTracker } from "./registry-backends.js";

/**
 * What `strata plan` promises and `strata apply` records: which changes keep a view's version,
 * which add one beside it (old readers keep working), how removal and re-adding number versions,
 * and that applying the same definitions twice changes nothing. Planned purely, then applied
 * through `applyRepo` on each registry backend.
 */
const viewAdded: PlanChange = { kind: "featureView", name: "driver_stats", action: "add", toVersion: 1, breaking: false, details: [] };
const baseAdds: PlanChange[] = [
  { kind: "entity", name: "driver", action: "add", breaking: false, details: [] },
  viewAdded,
  { kind: "featureService", name: "ranking", action: "add", breaking: false, details: [] },
];

describe("computePlan on an empty registry", () => {
  it("adds every entity, view (at v1) and service, and nothing is breaking", () => {
    const plan = computePlan(emptySnapshot("p"), statsRepo());
    assert.deepEqual(plan.changes, baseAdds);
    assert.deepEqual(plan.versions, { driver_stats: 1 });
    assert.equal(plan.baseRevision, 0);
    assert.equal(plan.unchanged, 0);
  });
});

const additiveChanges: { what: string; overrides: Partial<FeatureViewInput>; detail: string | RegExp; check: (spec: typeof baseStatsSpec) => void }[] = [
  {
    what: "a new feature",
    overrides: { schema: { conv_rate: Float32, trips: Int64, acc_rate: Float64 } },
    detail: "added feature acc_rate (Float64)",
    check: (s) => assert.deepEqual(s.features.at(-1), { name: "acc_rate", type: "Float64", description: "" }),
  },
  { what: "tags", overrides: { tags: { team: "ranking" } }, detail: 'tags: {} → {"team":"ranking"}', check: (s) => assert.deepEqual(s.tags, { team: "ranking" }) },
  { what: "the description", overrides: { description: "hourly stats" }, detail: 'description: "" → "hourly stats"', check: (s) => assert.equal(s.description, "hourly stats") },
  { what: "the ttl", overrides: { ttl: "1w" }, detail: "ttl: 2d → 1w", check: (s) => assert.equal(s.ttlSeconds, 604_800) },
  {
    what: "the source path",
    overrides: { source: { kind: "batchSource", path: "data/v2/stats.parquet", timestampField: "event_timestamp" } },
    detail: /^source: .*"path":"data\/driver_stats\.parquet".* → .*"path":"data\/v2\/stats\.parquet"/,
    check: (s) => assert.equal(s.source.path, "data/v2/stats.parquet"),
  },
];

const renamedKeyDriver = entity({ name: "driver", joinKeys: ["driver_uuid"] });
const stringKeyDriver = entity({ name: "driver", joinKeys: ["driver_id"], valueType: StringType });
const breakingChanges: { what: string; overrides: Partial<FeatureViewInput>; details: string[]; otherChanges: PlanChange[] }[] = [
  { what: "a removed feature", overrides: { schema: { conv_rate: Float32 } }, details: ["removed feature trips (Int64)"], otherChanges: [] },
  { what: "a retyped feature", overrides: { schema: { conv_rate: Float32, trips: Float64 } }, details: ["retyped feature trips: Int64 → Float64"], otherChanges: [] },
  {
    what: "changed entities",
    overrides: { entities: [driver, rider] },
    details: ["entities: driver → driver, rider", "join keys: driver_id:Int64 → driver_id:Int64, rider_id:String"],
    otherChanges: [{ kind: "entity", name: "rider", action: "add", breaking: false, details: [] }],
  },
  {
    what: "a changed join key",
    overrides: { entities: [renamedKeyDriver] },
    details: ["join keys: driver_id:Int64 → driver_uuid:Int64"],
    otherChanges: [{ kind: "entity", name: "driver", action: "update", breaking: true, details: ["join keys: driver_id:Int64 → driver_uuid:Int64"] }],
  },
  {
    what: "a changed join key type",
    overrides: { entities: [stringKeyDriver] },
    details: ["join keys: driver_id:Int64 → driver_id:String"],
    otherChanges: [{ kind: "entity", name: "driver", action: "update", breaking: true, details: ["join keys: driver_id:Int64 → driver_id:String"] }],
  },
];

const rebound: PlanChange = { kind: "featureService", name: "ranking", action: "update", breaking: true, details: ["reads driver_stats v2 (was v1)"] };
/** The reason removeVersionWrites gives for refusing (fails the test if it did not refuse). */
function refusal(result: ReturnType<typeof removeVersionWrites>): string {
  assert.equal(typeof result, "string", `expected a refusal, got writes ${JSON.stringify(result)}`);
  return result as string;
}
const trips = (type: string): unknown => [{ name: "trips", type, description: "" }];

for (const backend of allBackends()) {
  describe(`plan and apply: ${backend.name} registry`, () => {
    backend.useInThisSuite();
    let registry: StoreTracker;
    let store: RegistryStore;
    beforeEach(() => {
      registry = new StoreTracker(backend.isolate());
      store = registry.store("p");
    });
    afterEach(() => registry.closeAll());

    it("records an added entity, a view at v1 and a service bound to v1", async () => {
      const result = await applyRepo(store, statsRepo(), "alice");
      assert.equal(result.revision, 1);
      assert.deepEqual(result.plan.changes, baseAdds);
      const snapshot = await store.load();
      assert.deepEqual(
        snapshot.entities.map((e) => e.spec),
        [{ name: "driver", joinKeys: [{ name: "driver_id", type: "Int64" }], description: "", owner: "", tags: {} }],
      );
      assert.deepEqual(snapshot.views.map(({ name, version, spec, removedAt }) => ({ name, version, spec, removedAt })), [{ name: "driver_stats", version: 1, spec: baseStatsSpec, removedAt: null }]);
      assert.deepEqual(snapshot.services.map((s) => ({ spec: s.spec, bindings: s.bindings })), [
        { spec: { name: "ranking", features: [{ view: "driver_stats", features: ["conv_rate"] }], description: "", owner: "", tags: {} }, bindings: { driver_stats: 1 } },
      ]);
      assert.deepEqual((await store.history()).map(({ revision, actor, summary }) => ({ revision, actor, summary })), [
        { revision: 1, actor: "alice", summary: ["add entity driver", "add featureView driver_stats v1", "add featureService ranking"] },
      ]);
    });

    for (const change of additiveChanges) {
      it(`keeps v1 for ${change.what}: an additive, non-breaking update naming the field`, async () => {
        await applyRepo(store, statsRepo(), "alice");
        const createdAt = (await store.load()).views[0]!.createdAt;
        const result = await applyRepo(store, statsRepo(change.overrides), "bob");
        assert.equal(result.revision, 2);
        assert.equal(result.plan.changes.length, 1, `only the view changes: ${JSON.stringify(result.plan.changes)}`);
        const { details, ...rest } = result.plan.changes[0]!;
        assert.deepEqual(rest, { kind: "featureView", name: "driver_stats", action: "update", fromVersion: 1, toVersion: 1, breaking: false });
        assert.equal(details.length, 1, `one detail: ${JSON.stringify(details)}`);
        if (typeof change.detail === "string") assert.equal(details[0], change.detail);
        else assert.match(details[0]!, change.detail);
        assert.equal(result.plan.unchanged, 2, "entity and service are unchanged");

        const snapshot = await store.load();
        assert.deepEqual(snapshot.views.map((v) => v.version), [1], "no new version");
        const v1 = snapshot.views[0]!;
        change.check(v1.spec);
        assert.equal(v1.createdAt, createdAt, "an update keeps the creation time");
        assert.ok(v1.updatedAt >= createdAt);
        assert.deepEqual(snapshot.services[0]?.bindings, { driver_stats: 1 });
        assert.deepEqual((await store.history(1))[0]?.summary, ["update featureView driver_stats v1"]);
      });
    }

    it("updates an entity's description without breaking anything", async () => {
      await applyRepo(store, statsRepo(), "alice");
      const described = entity({ name: "driver", joinKeys: ["driver_id"], description: "a person who drives" });
      const result = await applyRepo(store, statsRepo({ entities: [described] }), "bob");
      assert.deepEqual(result.plan.changes, [{ kind: "entity", name: "driver", action: "update", breaking: false, details: ['description: "" → "a person who drives"'] }]);
      assert.deepEqual((await store.load()).views.map((v) => v.version), [1]);
    });

    for (const change of breakingChanges) {
      it(`adds v2 beside v1 for ${change.what}, and rebinds the service to v2`, async () => {
        await applyRepo(store, statsRepo(), "alice");
        const v1Before = (await store.load()).views[0]!;
        const result = await applyRepo(store, statsRepo(change.overrides), "bob");
        const viewChange: PlanChange = { kind: "featureView", name: "driver_stats", action: "new-version", fromVersion: 1, toVersion: 2, breaking: true, details: change.details };
        const sortByKind = (c: readonly PlanChange[]): PlanChange[] => [...c].sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`));
        assert.deepEqual(sortByKind(result.plan.changes), sortByKind([...change.otherChanges, viewChange, rebound]));
        assert.deepEqual(result.plan.versions, { driver_stats: 2 });
        assert.equal(result.revision, 2);

        const snapshot = await store.load();
        assert.deepEqual(activeVersions(snapshot, "driver_stats").map((v) => v.version), [1, 2]);
        assert.deepEqual(activeVersions(snapshot, "driver_stats")[0], v1Before, "v1 is untouched");
        const [pinned] = resolveFeatureRefs(snapshot, ["driver_stats@v1:trips"]);
        assert.equal(pinned?.record.version, 1);
        assert.deepEqual(pinned?.features, trips("Int64"), "view@v1:feature still reads v1's definition");
        assert.equal(resolveFeatureRefs(snapshot, ["driver_stats:conv_rate"])[0]?.record.version, 2, "an unpinned reference reads the latest");
        assert.deepEqual(snapshot.services[0]?.bindings, { driver_stats: 2 });
        const summary = (await store.history(1))[0]?.summary ?? [];
        assert.ok(summary.includes("new-version featureView driver_stats v1 → v2 (breaking)"), JSON.stringify(summary));
        assert.ok(summary.includes("update featureService ranking (breaking)"), JSON.stringify(summary));
      });
    }

    it("marks every version removed when the view leaves the definitions, and a re-add gets a fresh version number", async () => {
      await applyRepo(store, statsRepo(), "alice");
      await applyRepo(store, statsRepo({ schema: { conv_rate: Float32, trips: Float64 } }), "alice");
      const removal = await applyRepo(store, repoOf(driver), "bob");
      assert.deepEqual(removal.plan.changes, [
        { kind: "featureView", name: "driver_stats", action: "remove", fromVersion: 2, breaking: true, details: [] },
        { kind: "featureService", name: "ranking", action: "remove", breaking: true, details: [] },
      ]);
      const removed = await store.load();
      assert.deepEqual(removed.views.map((v) => v.version), [1, 2], "removed versions stay on record");
      const removedAt = removed.views[0]!.removedAt;
      assert.ok(removedAt !== null && removed.views.every((v) => v.removedAt === removedAt), "both versions are removed in one commit");
      assert.deepEqual(activeVersions(removed, "driver_stats"), []);
      assert.deepEqual(viewNames(removed), []);
      assert.deepEqual(removed.services, []);
      assert.throws(() => resolveFeatureRefs(removed, ["driver_stats@v1:trips"]), NotFoundError);

      const readd = await applyRepo(store, statsRepo(), "carol");
      assert.deepEqual(readd.plan.changes.filter((c) => c.kind === "featureView"), [{ ...viewAdded, toVersion: 3 }]);
      const snapshot = await store.load();
      assert.deepEqual(snapshot.views.map((v) => [v.version, v.removedAt === null]), [[1, false], [2, false], [3, true]]);
      assert.equal(snapshot.views[0]!.removedAt, removedAt, "the re-add leaves old removals alone");
      assert.deepEqual(snapshot.views[2]!.spec, baseStatsSpec, "v3 holds v1's definition under a new number");
      assert.deepEqual(snapshot.services[0]?.bindings, { driver_stats: 3 });
    });

    it("removes an old version on request but refuses the latest one", async () => {
      await applyRepo(store, statsRepo(), "alice");
      await applyRepo(store, statsRepo({ schema: { conv_rate: Float32, trips: Float64 } }), "alice");
      const snapshot = await store.load();
      const now = "2024-06-01T00:00:00.000Z";
      assert.match(refusal(removeVersionWrites(snapshot, "driver_stats", 2, now)), /v2 is the latest version of "driver_stats"/);
      assert.match(refusal(removeVersionWrites(snapshot, "driver_stats", 7, now)), /has no version v7/);
      const writes = removeVersionWrites(snapshot, "driver_stats", 1, now);
      assert.deepEqual(writes, [{ op: "removeViewVersion", name: "driver_stats", version: 1, removedAt: now }]);
      assert.ok(typeof writes !== "string");
      assert.equal(await store.commit(snapshot.revision, writes, { actor: "ops", summary: ["remove featureView driver_stats v1"] }), 3);

      const after = await store.load();
      assert.deepEqual(activeVersions(after, "driver_stats").map((v) => v.version), [2]);
      assert.equal(after.views.find((v) => v.version === 1)?.removedAt, now);
      assert.throws(() => resolveFeatureRefs(after, ["driver_stats@v1:trips"]), NotFoundError);
      assert.match(refusal(removeVersionWrites(after, "driver_stats", 1, now)), /has no version v1/, "a removed version cannot be removed twice");
      assert.deepEqual((await applyRepo(store, statsRepo({ schema: { conv_rate: Float32, trips: Float64 } }), "alice")).plan.changes, [], "removing an old version is not a definition change");
    });

    it("treats re-applying identical definitions as a no-op: no changes, no new revision, no history", async () => {
      await applyRepo(store, statsRepo(), "alice");
      const again = await applyRepo(store, statsRepo(), "bob");
      assert.deepEqual(again.plan.changes, []);
      assert.equal(again.plan.unchanged, 3);
      assert.equal(again.revision, 1);
      await applyRepo(store, statsRepo({ schema: { conv_rate: Float32 } }), "carol");
      const afterBreaking = await applyRepo(store, statsRepo({ schema: { conv_rate: Float32 } }), "dave");
      assert.deepEqual(afterBreaking.plan.changes, [], "a rebound service is not rebound again");
      assert.equal(afterBreaking.revision, 2);
      assert.equal((await store.load()).revision, 2);
      assert.deepEqual((await store.history()).map((h) => h.actor), ["carol", "alice"]);
    });
  });
}
