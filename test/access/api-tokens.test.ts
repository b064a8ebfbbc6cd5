import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { AccessControl } from "../../src/access/access-control.js";
import { scopeAllows, tokenHash } from "../../src/access/api-token.js";
import type { FeatureStore } from "../../src/feature-store.js";
import type { OnlineService } from "../../src/online/online-service.js";
import type { App, AppResponse } from "../../src/server/app.js";
import { createServerApp } from "../../src/server/create-server-app.js";
import { openOnlineProject } from "../helpers/online-project.js";

const now = new Date().toISOString();
/** One valid request per route, and the views it touches. */
const routes = {
  feastRead: { method: "POST", path: "/get-online-features", body: { features: ["driver_stats:conv_rate"], entities: { driver_id: [1] } } },
  serviceRead: { method: "POST", path: "/get-online-features", body: { feature_service: "ranking", entities: { driver_id: [1] } } },
  nativeRead: { method: "POST", path: "/v1/online-features", body: { features: ["driver_profile:city"], entities: { driver_id: [1] } } },
  write: { method: "POST", path: "/write-to-online-store", body: { feature_view_name: "fresh_stats", df: { driver_id: [1], event_timestamp: [now], conv_rate: [0.5] } } },
  writeStats: { method: "POST", path: "/write-to-online-store", body: { feature_view_name: "driver_stats", df: { driver_id: [1], ts: [now], conv_rate: [0.5], trips: [1] } } },
  push: { method: "POST", path: "/push", body: { push_source_name: "stats_push", df: { driver_id: [1], event_timestamp: [now], conv_rate: [0.7] }, to: "online" } },
  metrics: { method: "GET", path: "/metrics", body: undefined },
  health: { method: "GET", path: "/health", body: undefined },
} as const;
type Route = keyof typeof routes;

/**
 * API tokens on every route of the feature server (in-process, real SQLite registry and online
 * store): 401 without a valid token, 403 outside its scopes, 429 with Retry-After past its quota,
 * /health open; secrets never stored; creation and revocation audited.
 */
describe("API tokens and scopes on the feature server", () => {
  let store: FeatureStore;
  let online: OnlineService;
  let dir: string;
  const secrets: Record<string, string> = {};
  const serverWith = (access: AccessControl): App => createServerApp({ online, offlineIngest: (record, rows, ts) => store.ingestRows(record, rows, ts), access });
  let app: App;
  const call = (server: App, route: Route, token?: string): Promise<AppResponse> => {
    const r = routes[route];
    return server.handle({ method: r.method, path: r.path, body: Buffer.from(r.body === undefined ? "" : JSON.stringify(r.body)), headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  };
  const errorCode = (response: AppResponse): string => {
    const body = JSON.parse(response.body) as unknown;
    // Feast routes wrap the error in Feast's shape; the code travels in a header there.
    return response.headers?.["x-strata-error-code"] ?? (body as { error: { code: string } }).error.code;
  };

  before(async () => {
    ({ store, online, dir } = await openOnlineProject());
    for (const [name, scopes, quota] of [
      ["stats-reader", ["read:driver_stats"], null],
      ["all-reader", ["read:*"], null],
      ["fresh-writer", ["write:fresh_*"], null],
      ["ops", ["admin"], null],
      ["limited", ["read:*"], 2],
    ] as const) {
      secrets[name] = await store.createToken(name, scopes, quota);
    }
    app = serverWith(new AccessControl(() => store.registry.tokens(), 60_000));
  });
  after(() => store.close());

  it("lets /health through and answers 401 on every other route without a valid token", async () => {
    assert.equal((await call(app, "health")).status, 200);
    for (const route of Object.keys(routes).filter((r) => r !== "health") as Route[]) {
      for (const token of [undefined, "strata_not-a-real-token"]) {
        const response = await call(app, route, token);
        assert.equal(response.status, 401, `${route} with ${token ?? "no token"}`);
        assert.equal(errorCode(response), "UNAUTHENTICATED");
        assert.equal(response.headers?.["www-authenticate"], 'Bearer realm="strata"');
      }
    }
  });

  it("allows exactly what the scopes cover, route by route (403 with a JSON error otherwise)", async () => {
    const expected: Record<string, Partial<Record<Route, number>>> = {
      "stats-reader": { feastRead: 200, serviceRead: 403, nativeRead: 403, write: 403, writeStats: 403, push: 403, metrics: 403 },
      "all-reader": { feastRead: 200, serviceRead: 200, nativeRead: 200, write: 403, writeStats: 403, push: 403, metrics: 403 },
      "fresh-writer": { feastRead: 403, serviceRead: 403, nativeRead: 403, write: 200, writeStats: 403, push: 200, metrics: 403 },
      ops: { feastRead: 200, serviceRead: 200, nativeRead: 200, write: 200, writeStats: 200, push: 200, metrics: 200 },
    };
    for (const [name, byRoute] of Object.entries(expected)) {
      for (const [route, status] of Object.entries(byRoute) as [Route, number][]) {
        const response = await call(app, route, secrets[name]);
        assert.equal(response.status, status, `${name} on ${route}: ${response.body}`);
        if (status === 403) {
          assert.equal(errorCode(response), "FORBIDDEN");
          assert.ok(response.body.includes(name) && response.body.includes("may not"), response.body);
        }
      }
    }
  });

  it("answers 429 with Retry-After past a token's quota, and serves it again after a second", async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await call(app, "feastRead", secrets.limited));
    assert.deepEqual(statuses.map((r) => r.status), [200, 200, 429, 429]);
    assert.equal(errorCode(statuses[2]!), "RATE_LIMITED");
    assert.ok(Number(statuses[2]!.headers?.["retry-after"]) >= 1);
    assert.equal((await call(app, "feastRead", secrets["all-reader"])).status, 200, "other tokens have their own quota");
    await sleep(1100);
    assert.equal((await call(app, "feastRead", secrets.limited)).status, 200);
  });

  it("accepts a token created after start at once, and refuses a revoked one after the refresh interval", async () => {
    const quick = serverWith(new AccessControl(() => store.registry.tokens(), 300));
    const late = await store.createToken("late", ["read:*"]);
    assert.equal((await call(quick, "feastRead", late)).status, 200, "an unknown token triggers a reload");
    await store.revokeToken("late");
    await sleep(350);
    const response = await call(quick, "feastRead", late);
    assert.equal(response.status, 401);
    await assert.rejects(store.revokeToken("late"), /live token "late" not found/);
    await assert.rejects(store.createToken("late", ["read:*"]), /names are never reused/);
  });

  it("stores only SHA-256 hashes of secrets, and audits token changes without them", async () => {
    const db = new Database(join(dir, ".strata", "registry.db"), { readonly: true });
    const rows = db.prepare("SELECT * FROM api_tokens").all() as Record<string, unknown>[];
    const dump = JSON.stringify(rows) + JSON.stringify(db.prepare("SELECT entry FROM audit_log").all());
    db.close();
    for (const secret of Object.values(secrets)) {
      assert.ok(!dump.includes(secret), "no secret in the registry");
      assert.ok(rows.some((r) => r.hash === tokenHash(secret)));
    }
    const audited = (await store.registry.auditRows()).map((r) => JSON.parse(r.entry) as { action: string; object: string });
    assert.deepEqual(audited.filter((e) => e.action.startsWith("token.")).map((e) => `${e.action} ${e.object}`), [
      "token.create token:stats-reader",
      "token.create token:all-reader",
      "token.create token:fresh-writer",
      "token.create token:ops",
      "token.create token:limited",
      "token.create token:late",
      "token.revoke token:late",
    ]);
  });

  it("refuses bad scopes, names and quotas with the reason", async () => {
    await assert.rejects(store.createToken("x", ["delete:*"]), /scope "delete:\*" is not read:<view>/);
    await assert.rejects(store.createToken("x", []), /at least one --scope/);
    for (const scope of ["admin:driver_stats", "read:dr*ver", "read:"]) await assert.rejects(store.createToken("x", [scope]), /is not read:<view>/, scope);
    await assert.rejects(store.createToken("bad name", ["admin"]), /token name "bad name"/);
    await assert.rejects(store.createToken("x", ["admin"], 0), /--quota must be a whole number/);
  });
});

describe("scope matching", () => {
  it("matches names, * and prefixes per action; admin covers all; malformed scopes nothing", () => {
    assert.equal(scopeAllows(["read:driver_stats"], "read", "driver_stats"), true);
    assert.equal(scopeAllows(["read:driver_stats"], "read", "driver_stats_v2"), false);
    assert.equal(scopeAllows(["read:driver_*"], "read", "driver_stats_v2"), true);
    assert.equal(scopeAllows(["read:*"], "write", "driver_stats"), false);
    assert.equal(scopeAllows(["write"], "write", "anything"), true);
    assert.equal(scopeAllows(["read:*", "write:*"], "admin", undefined), false);
    assert.equal(scopeAllows(["admin"], "admin", undefined), true);
    assert.equal(scopeAllows(["admin"], "write", "x"), true);
    assert.equal(scopeAllows(["rea:x"], "read", "x"), false);
    assert.equal(scopeAllows(["admin:driver_stats"], "write", "payments"), false, "admin takes no view: a malformed scope grants nothing");
    assert.equal(scopeAllows(["dr*ver"], "read", "driver"), false);
  });
});
