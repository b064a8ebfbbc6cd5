import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FeatureStore } from "../../src/feature-store.js";
import { applyViews, driverView, ingestRows } from "../helpers/fixtures.js";
import { randomSchemaName, usePostgres } from "../helpers/postgres-server.js";
import { makeProject } from "../helpers/project.js";

/** A project whose strata.yaml points the registry at PostgreSQL works end to end, with the URL from the environment. */
describe("a project with a PostgreSQL registry", () => {
  const postgres = usePostgres();

  it("applies, ingests and builds training sets; a second process sees the same registry", async () => {
    process.env.STRATA_TEST_PG_URL = postgres.url();
    const schema = randomSchemaName();
    const dir = await makeProject({ config: { registry: { type: "postgres", url: "${STRATA_TEST_PG_URL}", schema } } });
    const store = await FeatureStore.open(dir, { actor: "pg-test" });
    try {
      await applyViews(store, [driverView("stats")], true);
      await ingestRows(store, "stats", [{ driver_id: 1, ts: "2024-01-01T00:00:00Z", value: 4.5 }]);
      const set = await store.getHistoricalFeatures({ entities: [{ driver_id: 1, event_timestamp: new Date("2024-01-02T00:00:00Z") }], service: "svc" });
      assert.deepEqual((await set.toRows()).map((r) => r.value), [4.5]);
      await set.close();
    } finally {
      await store.close();
    }
    const other = await FeatureStore.open(dir);
    try {
      const snapshot = await other.snapshot();
      assert.deepEqual([snapshot.revision, snapshot.views.map((v) => `${v.name}@v${v.version}`), snapshot.services.map((s) => s.spec.name)], [1, ["stats@v1"], ["svc"]]);
    } finally {
      await other.close();
    }
  });
});
