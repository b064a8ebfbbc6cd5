import assert from "node:assert/strict";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FeatureStore } from "../../src/feature-store.js";
import { applyViews, driverView, ingestRows } from "../helpers/fixtures.js";
import { openProject } from "../helpers/project.js";

/**
 * Retrieval reads only the date partitions the entity times (and the view's ttl) can reach:
 * proven by deleting a partition outside that range, which a full scan would trip over.
 */
describe("partition pruning", () => {
  let store: FeatureStore;
  before(async () => {
    ({ store } = await openProject());
    await applyViews(store, [driverView("daily", "1d"), driverView("forever")]);
    for (const view of ["daily", "forever"]) {
      await ingestRows(store, view, Array.from({ length: 10 }, (_, d) => ({ driver_id: 1, ts: `2024-01-${String(d + 1).padStart(2, "0")}T12:00:00Z`, value: d + 1 })));
      await rm(join(store.config.offline.path, view, "v1", "date=2024-01-02"), { recursive: true });
    }
  });
  after(() => store.close());

  const at = (t: string): { entities: { driver_id: number; event_timestamp: Date }[] } => ({ entities: [{ driver_id: 1, event_timestamp: new Date(t) }] });

  it("skips partitions older than the earliest entity time minus the ttl", async () => {
    assert.deepEqual((await readdir(join(store.config.offline.path, "daily", "v1"))).filter((d) => d.startsWith("date=")).length, 9);
    const set = await store.getHistoricalFeatures({ ...at("2024-01-10T00:00:00Z"), features: ["daily:value"] });
    assert.deepEqual((await set.toRows()).map((r) => r.value), [9]);
    await set.close();
  });

  it("skips partitions after the latest entity time", async () => {
    const set = await store.getHistoricalFeatures({ ...at("2024-01-01T18:00:00Z"), features: ["forever:value"] });
    assert.deepEqual((await set.toRows()).map((r) => r.value), [1]);
    await set.close();
  });

  it("does read every partition a view without ttl can reach (so the missing one is noticed)", async () => {
    await assert.rejects(store.getHistoricalFeatures({ ...at("2024-01-10T00:00:00Z"), features: ["forever:value"] }), /No files found|date=2024-01-02/);
  });
});
