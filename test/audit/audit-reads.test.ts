import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AccessControl } from "../../src/access/access-control.js";
import type { AuditEntry } from "../../src/audit/audit-entry.js";
import { verifyChain } from "../../src/audit/verify-chain.js";
import type { FeatureStore } from "../../src/feature-store.js";
import { createServerApp } from "../../src/server/create-server-app.js";
import { openOnlineProject } from "../helpers/online-project.js";

/**
 * Reads of views listed in audit.reads are audited with their reader: online requests with the
 * token's name (after authorization, off the response path), training sets with the actor; reads
 * of other views, and refused reads, leave no entry.
 */
describe("audited reads (audit.reads)", () => {
  let store: FeatureStore;
  before(async () => {
    ({ store } = await openOnlineProject({ audit: { reads: ["driver_stats"] } }));
  });
  after(() => store.close());

  const readEntries = async (): Promise<AuditEntry[]> => (await store.registry.auditRows()).map((r) => JSON.parse(r.entry) as AuditEntry).filter((e) => e.action === "read");

  it("records online reads of audited views with the token, and nothing for other views or refused reads", async () => {
    const online = await store.online();
    const reads = store.readAuditor()!;
    const app = createServerApp({ online, offlineIngest: (record, rows, ts) => store.ingestRows(record, rows, ts), access: new AccessControl(() => store.registry.tokens(), 60_000), reads });
    const analyst = await store.createToken("analyst", ["read:*"]);
    const narrow = await store.createToken("narrow", ["read:driver_profile"]);
    const read = (features: string[], token: string) =>
      app.handle({ method: "POST", path: "/v1/online-features", body: Buffer.from(JSON.stringify({ features, entities: { driver_id: [1, 2] } })), headers: { authorization: `Bearer ${token}` } });
    assert.equal((await read(["driver_stats:conv_rate", "driver_profile:city"], analyst)).status, 200);
    assert.equal((await read(["driver_profile:city"], analyst)).status, 200);
    assert.equal((await read(["driver_stats:trips"], narrow)).status, 403);
    await reads.drained();
    assert.deepEqual((await readEntries()).map((e) => [e.actor, e.object, e.details]), [["analyst", "featureView:driver_stats", { kind: "online" }]]);
  });

  it("records a training set over an audited view with the actor and the features read", async () => {
    const before = (await readEntries()).length;
    const set = await store.getHistoricalFeatures({ entities: [{ driver_id: 1, event_timestamp: "2026-01-01T00:00:00Z" }], features: ["driver_stats:trips", "driver_profile:city"] });
    await set.close();
    const added = (await readEntries()).slice(before);
    assert.deepEqual(added.map((e) => [e.actor, e.object, e.details]), [["test", "featureView:driver_stats", { kind: "training-set", features: ["trips"] }]]);
    assert.equal(verifyChain(await store.registry.auditRows()).problem, null);
  });
});
