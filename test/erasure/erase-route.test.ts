import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { AccessControl } from "../../src/access/access-control.js";
import { watchErasures } from "../../src/erasure/erasure-watch.js";
import type { ErasureRecord } from "../../src/erasure/erasure-record.js";
import { FeatureStore } from "../../src/feature-store.js";
import type { OnlineService } from "../../src/online/online-service.js";
import type { App, AppResponse } from "../../src/server/app.js";
import { createServerApp } from "../../src/server/create-server-app.js";
import { cliJson } from "../helpers/cli.js";
import { makeProject } from "../helpers/project.js";
import { loadErasureProject, OTHERS, SUBJECT } from "./erasure-project.js";

/**
 * `POST /v1/erase` on the in-process server (SQLite, in-process cache): admin only, bad bodies
 * get their 400, a good one erases and answers the receipt, and the server's own cache stops
 * serving the subject at once; an erase run by the CLI in another process reaches that cache
 * through the ledger watch.
 */
describe("the erase route and a server's in-process cache", () => {
  let store: FeatureStore;
  let online: OnlineService;
  let app: App;
  let dir: string;
  const secrets: Record<string, string> = {};

  before(async () => {
    dir = await makeProject({ config: { server: { requireTokens: true } } });
    store = await FeatureStore.open(dir, { actor: "route-test" });
    await loadErasureProject(store, Date.now());
    await store.materialize();
    online = await store.online();
    secrets.admin = await store.createToken("admin", ["admin"]);
    secrets.reader = await store.createToken("reader", ["read:*", "write:*"]);
    app = createServerApp({ online, offlineIngest: (r, rows, ts) => store.ingestRows(r, rows, ts), access: new AccessControl(() => store.registry.tokens(), 60_000), erase: (r) => store.erase(r) });
  });
  after(() => store.close());

  const call = (path: string, body: unknown, token?: string): Promise<AppResponse> =>
    app.handle({ method: "POST", path, body: Buffer.from(typeof body === "string" ? body : JSON.stringify(body)), headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  const spend = async (customer: string): Promise<{ status: string; value: unknown }> => {
    const response = await call("/v1/online-features", { features: ["customer_profile:spend"], entities: { customer_id: [customer] } }, secrets.reader);
    const body = JSON.parse(response.body) as { results: { values: unknown[]; statuses: string[] }[] };
    return { status: body.results[1]!.statuses[0]!, value: body.results[1]!.values[0] };
  };

  it("needs an admin token and a well-formed body", async () => {
    const body = { entity: { customer_id: SUBJECT } };
    assert.equal((await call("/v1/erase", body)).status, 401);
    assert.equal((await call("/v1/erase", body, secrets.reader)).status, 403);
    for (const bad of ["not json", {}, { entity: [] }, { entity: {} }, { entity: { customer_id: true } }, { entity: body.entity, views: "x" }, { entity: body.entity, extra: 1 }, { entity: { nope: "1" } }, { entity: body.entity, views: ["missing"] }]) {
      const response = await call("/v1/erase", bad, secrets.admin);
      assert.equal(response.status, 400, `${JSON.stringify(bad)} → ${response.status} ${response.body}`);
      assert.match((JSON.parse(response.body) as { error: { message: string } }).error.message, /./);
    }
    assert.equal((await store.registry.erasures()).length, 0, "a refused request erases nothing");
  });

  it("erases through the server, whose own cache stops serving the subject at once", async () => {
    assert.equal((await spend(SUBJECT)).status, "PRESENT"); // now cached in this process
    const response = await call("/v1/erase", { entity: { customer_id: SUBJECT }, reason: "ticket 7" }, secrets.admin);
    assert.equal(response.status, 200, response.body);
    const receipt = JSON.parse(response.body) as ErasureRecord;
    assert.deepEqual([receipt.status, receipt.reason, receipt.actor], ["done", "ticket 7", "route-test"]);
    assert.deepEqual(await spend(SUBJECT), { status: "NOT_FOUND", value: null });
    assert.equal((await spend(OTHERS[0]!)).status, "PRESENT");
  });

  it("drops a subject erased by another process from the in-process cache within the poll interval", async () => {
    const other = OTHERS[3]!;
    const stop = watchErasures(online, () => store.registry.erasures(), 100);
    try {
      await sleep(300); // the watch has read the ledger once
      assert.equal((await spend(other)).status, "PRESENT");
      await cliJson(["-C", dir, "erase", "--entity", `customer_id=${other}`]);
      const deadline = Date.now() + 5000;
      while ((await spend(other)).status !== "NOT_FOUND" && Date.now() < deadline) await sleep(50);
      assert.deepEqual(await spend(other), { status: "NOT_FOUND", value: null });
    } finally {
      stop();
    }
  });
});
