import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { RepoSpec } from "../../src/index.js";
import { applyRepo } from "../../src/registry/apply.js";
import { computePlan } from "../../src/registry/plan.js";
import { viewNames } from "../../src/registry/registry-records.js";
import type { RegistryStore } from "../../src/registry/registry-store.js";
import { driverStats, ranking, repoOf } from "./definitions-fixtures.js";
import { allBackends, StoreTracker } from "./registry-backends.js";
import { isConflict } from "./registry-conformance.js";
import { withLoad } from "./with-load.js";

/**
 * Two people applying different definitions at once: one wins, the other is told to re-run
 * (never a silent merge or a lost write), and the re-run then records the loser's state.
 */

/** The base repo plus one extra view named `extra`: each writer's own definition set. */
function repoWith(extra: string): RepoSpec {
  const base = driverStats();
  return repoOf(base, ranking(base), driverStats({ name: extra }));
}

/**
 * Wraps real stores so `load` returns only when all `parties` loads have: every writer plans
 * against the same revision, the interleaving the optimistic check exists for.
 */
function loadBarrier(parties: number): (store: RegistryStore) => RegistryStore {
  let arrived = 0;
  let release: () => void = () => undefined;
  const allLoaded = new Promise<void>((resolve) => (release = resolve));
  return (store) =>
    withLoad(store, async () => {
      const snapshot = await store.load();
      if (++arrived === parties) release();
      await allLoaded;
      return snapshot;
    });
}

for (const backend of allBackends()) {
  describe(`concurrent apply: ${backend.name} registry`, () => {
    backend.useInThisSuite();
    let registry: StoreTracker;
    beforeEach(async () => {
      registry = new StoreTracker(backend.isolate());
      const base = driverStats();
      await applyRepo(registry.store("p"), repoOf(base, ranking(base)), "setup");
    });
    afterEach(() => registry.closeAll());

    it("lets one of two applies planned on the same revision win; the loser conflicts, wrote nothing, and succeeds when re-run", async () => {
      const gate = loadBarrier(2);
      const writers = [
        { actor: "alice", view: "alice_stats", store: gate(registry.store("p")) },
        { actor: "bob", view: "bob_stats", store: gate(registry.store("p")) },
      ];
      const outcomes = await Promise.allSettled(writers.map((w) => applyRepo(w.store, repoWith(w.view), w.actor)));
      const winners = writers.filter((_, i) => outcomes[i]!.status === "fulfilled");
      assert.equal(winners.length, 1, `exactly one apply wins: ${JSON.stringify(outcomes.map((o) => o.status))}`);
      const winner = winners[0]!;
      const loser = writers.find((w) => w !== winner)!;
      const lost = outcomes[writers.indexOf(loser)]!;
      assert.ok(lost.status === "rejected" && isConflict(lost.reason), `the loser gets RegistryConflictError, got ${lost.status === "rejected" ? String(lost.reason) : "success"}`);

      const reader = registry.store("p");
      const afterRace = await reader.load();
      assert.equal(afterRace.revision, 2);
      assert.deepEqual(viewNames(afterRace), ["driver_stats", winner.view].sort());
      assert.ok(!afterRace.views.some((v) => v.name === loser.view), "nothing of the loser's apply was written");
      assert.deepEqual(computePlan(afterRace, repoWith(winner.view)).changes, [], "the registry holds exactly the winner's definitions");
      assert.deepEqual((await reader.history()).map((h) => h.actor), [winner.actor, "setup"]);

      const rerun = await applyRepo(registry.store("p"), repoWith(loser.view), loser.actor);
      assert.equal(rerun.revision, 3);
      assert.deepEqual(rerun.plan.changes, [
        { kind: "featureView", name: loser.view, action: "add", toVersion: 1, breaking: false, details: [] },
        { kind: "featureView", name: winner.view, action: "remove", fromVersion: 1, breaking: true, details: [] },
      ], "the re-run shows the winner's view going away explicitly, not silently");
      const final = await reader.load();
      assert.deepEqual(viewNames(final), ["driver_stats", loser.view].sort());
      assert.deepEqual(computePlan(final, repoWith(loser.view)).changes, []);
      assert.deepEqual((await reader.history()).map((h) => h.actor), [loser.actor, winner.actor, "setup"]);
    });

    it("keeps the registry equal to the last successful apply when 4 applies race without coordination", async () => {
      const actors = ["w0", "w1", "w2", "w3"];
      const outcomes = await Promise.allSettled(actors.map((a) => applyRepo(registry.store("p"), repoWith(`${a}_stats`), a)));
      const applied = outcomes.flatMap((o, i) => (o.status === "fulfilled" ? [{ actor: actors[i]!, revision: o.value.revision }] : []));
      for (const o of outcomes) if (o.status === "rejected") assert.ok(isConflict(o.reason), `only conflicts may fail, got ${String(o.reason)}`);
      assert.ok(applied.length >= 1, "at least one apply succeeds");
      applied.sort((a, b) => a.revision - b.revision);
      assert.deepEqual(applied.map((a) => a.revision), applied.map((_, i) => i + 2), "successes took consecutive revisions");
      const snapshot = await registry.store("p").load();
      assert.equal(snapshot.revision, 1 + applied.length);
      const last = applied.at(-1)!;
      assert.deepEqual(computePlan(snapshot, repoWith(`${last.actor}_stats`)).changes, []);
      assert.deepEqual(
        [...new Set(snapshot.views.map((v) => v.name))].sort(),
        ["driver_stats", ...applied.map((a) => `${a.actor}_stats`)].sort(),
        "every successful apply, and only those, left its view on record",
      );
    });
  });
}
