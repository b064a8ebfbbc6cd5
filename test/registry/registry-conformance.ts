import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { verifyChain } from "../../src/audit/verify-chain.js";
import { RegistryConflictError } from "../../src/errors.js";
import type { HistoryEntry, RegistrySnapshot, RegistryWrite } from "../../src/registry/registry-records.js";
import { StoreTracker, type RegistryBackend } from "./registry-backends.js";
import { driverEntity, entityNamed, rankingService, statsV1, statsV2 } from "./sample-records.js";

/** True for the error a lost optimistic-concurrency race must produce. */
export function isConflict(error: unknown): boolean {
  return error instanceof RegistryConflictError && error.code === "REGISTRY_CONFLICT";
}

const entry = (actor: string, ...summary: string[]): { actor: string; summary: string[] } => ({ actor, summary });
const putEntity = (name: string): RegistryWrite => ({ op: "putEntity", record: entityNamed(name) });
const historyWithoutTimes = (h: HistoryEntry[]): Omit<HistoryEntry, "appliedAt">[] => h.map(({ appliedAt: _, ...rest }) => rest);

/**
 * The contract of `RegistryStore` (src/registry/registry-store.ts), run against every backend:
 * exact round-trips, one revision per commit, optimistic concurrency that loses nothing and
 * writes nothing on conflict, project isolation and durability across instances. A backend
 * is correct for Strata only if it passes all of it; each test gets a fresh, empty place.
 */
export function registryConformance(backend: RegistryBackend): void {
  describe(`RegistryStore conformance: ${backend.name}`, () => {
    let registry: StoreTracker;
    backend.useInThisSuite();
    beforeEach(() => {
      registry = new StoreTracker(backend.isolate());
    });
    afterEach(() => registry.closeAll());

    it("starts empty: revision 0, no objects, no history", async () => {
      const store = registry.store("p");
      assert.deepEqual(await store.load(), { project: "p", revision: 0, entities: [], views: [], services: [] });
      assert.deepEqual(await store.history(), []);
    });

    it("round-trips entities, view versions (removedAt included) and services (bindings included) exactly, sorted by name and version", async () => {
      const store = registry.store("p");
      const customer = entityNamed("customer");
      const writes: RegistryWrite[] = [
        { op: "putEntity", record: driverEntity },
        { op: "putEntity", record: customer },
        { op: "putViewVersion", record: statsV2 },
        { op: "putViewVersion", record: statsV1 },
        { op: "putService", record: rankingService },
      ];
      assert.equal(await store.commit(0, writes, entry("alice", "first apply")), 1);
      const expected: RegistrySnapshot = { project: "p", revision: 1, entities: [customer, driverEntity], views: [statsV1, statsV2], services: [rankingService] };
      assert.deepEqual(await store.load(), expected);
      assert.deepEqual(await registry.store("p").load(), expected, "a second instance reads the same rows");
    });

    it("updates, deletes and removes rows in later commits", async () => {
      const store = registry.store("p");
      const customer = entityNamed("customer");
      await store.commit(0, [{ op: "putEntity", record: driverEntity }, { op: "putEntity", record: customer }, { op: "putViewVersion", record: statsV2 }, { op: "putService", record: rankingService }], entry("alice"));
      const renamed = { ...driverEntity, spec: { ...driverEntity.spec, description: "renamed" }, updatedAt: "2024-05-01T00:00:00.000Z" };
      const writes: RegistryWrite[] = [
        { op: "putEntity", record: renamed },
        { op: "deleteEntity", name: "customer" },
        { op: "removeViewVersion", name: "driver_stats", version: 2, removedAt: "2024-05-01T00:00:00.000Z" },
        { op: "deleteService", name: "ranking" },
      ];
      assert.equal(await store.commit(1, writes, entry("bob")), 2);
      assert.deepEqual(await store.load(), {
        project: "p",
        revision: 2,
        entities: [renamed],
        views: [{ ...statsV2, removedAt: "2024-05-01T00:00:00.000Z" }],
        services: [],
      });
    });

    it("adds one to the revision per commit, even an empty one, and keeps history newest first", async () => {
      const store = registry.store("p");
      const started = Date.now();
      assert.equal(await store.commit(0, [putEntity("a")], entry("alice", "add entity a")), 1);
      assert.equal(await store.commit(1, [], entry("bob")), 2);
      assert.equal(await store.commit(2, [putEntity("b"), putEntity("c")], entry("carol", "add entity b", "add entity c")), 3);
      assert.equal((await store.load()).revision, 3);
      const history = await store.history();
      assert.deepEqual(historyWithoutTimes(history), [
        { revision: 3, actor: "carol", summary: ["add entity b", "add entity c"] },
        { revision: 2, actor: "bob", summary: [] },
        { revision: 1, actor: "alice", summary: ["add entity a"] },
      ]);
      for (const h of history) {
        const at = Date.parse(h.appliedAt);
        assert.ok(at >= started - 1000 && at <= Date.now() + 1000, `appliedAt ${h.appliedAt} is the commit time`);
        assert.equal(new Date(at).toISOString(), h.appliedAt, "appliedAt is ISO-8601 UTC");
      }
      assert.deepEqual(historyWithoutTimes(await store.history(2)).map((h) => h.revision), [3, 2], "limit keeps the newest");
    });

    it("rejects a commit against a revision that moved, with REGISTRY_CONFLICT, and writes nothing", async () => {
      const [alice, bob] = [registry.store("p"), registry.store("p")];
      await alice.commit(0, [putEntity("base")], entry("setup"));
      assert.equal((await alice.load()).revision, 1);
      assert.equal((await bob.load()).revision, 1);
      assert.equal(await alice.commit(1, [putEntity("from_alice")], entry("alice")), 2);
      await assert.rejects(bob.commit(1, [putEntity("from_bob"), { op: "deleteEntity", name: "base" }], entry("bob")), (error: unknown) => {
        assert.ok(isConflict(error), `expected RegistryConflictError, got ${String(error)}`);
        assert.match((error as Error).message, /expected revision 1, found 2/);
        return true;
      });
      for (const reader of [alice, bob, registry.store("p")]) {
        const snapshot = await reader.load();
        assert.equal(snapshot.revision, 2);
        assert.deepEqual(snapshot.entities.map((e) => e.spec.name), ["base", "from_alice"]);
      }
      assert.deepEqual((await bob.history()).map((h) => h.actor), ["alice", "setup"]);
    });

    it("rejects a commit against a revision the registry has not reached", async () => {
      const store = registry.store("p");
      await assert.rejects(store.commit(5, [putEntity("x")], entry("eve")), isConflict);
      assert.deepEqual(await store.load(), { project: "p", revision: 0, entities: [], views: [], services: [] });
      assert.deepEqual(await store.history(), []);
    });

    for (const base of [0, 1]) {
      it(`lets exactly one of 6 concurrent commits against revision ${base} win (${base === 0 ? "the very first commit" : "an existing project"})`, async () => {
        if (base === 1) await registry.store("p").commit(0, [putEntity("base")], entry("setup"));
        const writers = Array.from({ length: 6 }, () => registry.store("p"));
        for (const w of writers) assert.equal((await w.load()).revision, base, "every writer read the same revision");
        const outcomes = await Promise.allSettled(writers.map((w, i) => w.commit(base, [putEntity(`writer_${i}`)], entry(`writer_${i}`, `add entity writer_${i}`))));
        const winners = outcomes.flatMap((o, i) => (o.status === "fulfilled" ? [i] : []));
        assert.equal(winners.length, 1, `exactly one commit succeeds, got ${winners.length}`);
        const winner = winners[0]!;
        assert.deepEqual(outcomes[winner], { status: "fulfilled", value: base + 1 });
        for (const o of outcomes) if (o.status === "rejected") assert.ok(isConflict(o.reason), `losers get RegistryConflictError, got ${String(o.reason)}`);
        const snapshot = await registry.store("p").load();
        assert.equal(snapshot.revision, base + 1);
        assert.deepEqual(snapshot.entities.map((e) => e.spec.name), [...(base === 1 ? ["base"] : []), `writer_${winner}`]);
        assert.deepEqual(historyWithoutTimes(await writers[0]!.history()).at(0), { revision: base + 1, actor: `writer_${winner}`, summary: [`add entity writer_${winner}`] });
      });
    }

    it("keeps projects in one database apart", async () => {
      const [red, blue] = [registry.store("red"), registry.store("blue")];
      await red.commit(0, [{ op: "putEntity", record: driverEntity }, { op: "putViewVersion", record: statsV2 }, { op: "putService", record: rankingService }], entry("ann", "red"));
      assert.deepEqual(await blue.load(), { project: "blue", revision: 0, entities: [], views: [], services: [] });
      assert.deepEqual(await blue.history(), []);
      await assert.rejects(blue.commit(1, [putEntity("y")], entry("bo")), isConflict, "red's revision is not blue's");
      assert.equal(await blue.commit(0, [putEntity("customer")], entry("bo", "blue")), 1);
      const redSnapshot = await red.load();
      assert.equal(redSnapshot.revision, 1);
      assert.deepEqual(redSnapshot.entities, [driverEntity]);
      assert.deepEqual((await blue.load()).entities, [entityNamed("customer")]);
      assert.deepEqual((await red.history()).map((h) => h.summary), [["red"]]);
      assert.deepEqual((await blue.history()).map((h) => h.summary), [["blue"]]);
    });

    it("shows a new instance on the same place everything committed before close", async () => {
      const first = registry.store("p");
      await first.commit(0, [{ op: "putEntity", record: driverEntity }, { op: "putViewVersion", record: statsV1 }], entry("alice", "one"));
      await first.commit(1, [{ op: "putViewVersion", record: statsV2 }, { op: "putService", record: rankingService }], entry("bob", "two"));
      await registry.close(first);
      const reopened = registry.store("p");
      assert.deepEqual(await reopened.load(), { project: "p", revision: 2, entities: [driverEntity], views: [statsV1, statsV2], services: [rankingService] });
      assert.deepEqual(historyWithoutTimes(await reopened.history()), [
        { revision: 2, actor: "bob", summary: ["two"] },
        { revision: 1, actor: "alice", summary: ["one"] },
      ]);
      assert.equal(await reopened.commit(2, [{ op: "deleteService", name: "ranking" }], entry("carol")), 3, "and can keep committing");
    });

    it("appends a commit's audit entry in the commit's transaction: with its revision, and none for a commit that conflicts", async () => {
      const store = registry.store("p");
      const audit = { action: (revision: number) => ({ actor: "ann", action: "apply", object: "project", details: { revision } }), key: undefined };
      assert.equal(await store.commit(0, [putEntity("a")], entry("ann"), audit), 1);
      await assert.rejects(store.commit(0, [putEntity("b")], entry("bob"), audit), isConflict);
      assert.equal(await store.commit(1, [putEntity("c")], entry("ann")), 2, "no audit asked, none appended");
      const rows = await store.auditRows();
      assert.deepEqual(rows.map((r) => (JSON.parse(r.entry) as { details: unknown }).details), [{ revision: 1 }]);
      assert.equal(verifyChain(rows).problem, null);
    });

    it("appends audit entries from concurrent writers on two instances into one intact chain, per project, signed when given a key", async () => {
      const [a, b, other] = [registry.store("p"), registry.store("p"), registry.store("q")];
      const action = (i: number) => ({ actor: `w${i % 3}`, action: "ingest", object: `featureView:v${i}`, details: { rows: i } });
      const appended = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).appendAudit([action(i)], "k3y"))).then((batches) => batches.flat());
      await other.appendAudit([action(99)], undefined);
      const rows = await a.auditRows();
      assert.deepEqual(rows.map((r) => r.seq), Array.from({ length: 40 }, (_, i) => i + 1), "one gapless sequence");
      assert.deepEqual([...rows].sort((x, y) => x.hash.localeCompare(y.hash)), [...appended].sort((x, y) => x.hash.localeCompare(y.hash)), "exactly the rows appended, as returned");
      const report = verifyChain(rows, { key: "k3y" });
      assert.equal(report.problem, null);
      assert.equal(report.head, `40:${rows[39]!.hash}`);
      assert.match(verifyChain(rows, { key: "another key" }).problem?.detail ?? "", /not signed with the audit key/, "a wrong key fails at the first entry");
      assert.deepEqual((await other.auditRows()).map((r) => [r.seq, r.mac]), [[1, null]], "projects have chains of their own");
    });
  });
}
