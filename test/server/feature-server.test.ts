import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FeatureStore } from "../../src/feature-store.js";
import type { OnlineService } from "../../src/online/online-service.js";
import type { App } from "../../src/server/app.js";
import { startHttpServer } from "../../src/server/http-server.js";
import { openOnlineProject } from "../helpers/online-project.js";

const iso = (msAgo: number): string => new Date(Date.now() - msAgo).toISOString();

/** The feature server in-process (real SQLite durable store, memory cache): Feast's shapes, Strata's extras, every bad request a 4xx. */
describe("feature server", () => {
  let store: FeatureStore;
  let online: OnlineService;
  let app: App;
  const post = (path: string, body: unknown) => app.handle({ method: "POST", path, body: Buffer.from(typeof body === "string" ? body : JSON.stringify(body)), headers: {} });
  const postJson = async (path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const response = await post(path, body);
    return { status: response.status, json: JSON.parse(response.body === "" ? "{}" : response.body) as Record<string, unknown> };
  };
  const written = { fresh: iso(60_000), old: iso(2 * 3_600_000) };

  before(async () => {
    ({ store, online, app } = await openOnlineProject());
    const write = async (view: string, df: Record<string, unknown[]>): Promise<void> => {
      const response = await post("/write-to-online-store", { feature_view_name: view, df });
      assert.equal(response.status, 200, response.body);
      assert.equal(response.body, "null");
    };
    await write("driver_stats", { driver_id: [1, 2, 3], ts: [written.fresh, written.old, written.fresh], conv_rate: [0.5, 0.25, null], trips: [10, 20, 30] });
    await write("driver_profile", { driver_id: [1, 3], ts: [written.fresh, written.fresh], city: ["ams", "ber"], rating: [2, 4.5] });
    await online.populate.drain();
  });
  after(() => store.close());

  it("answers Feast's get-online-features column-major, join keys first, with read-time statuses", async () => {
    const { status, json } = await postJson("/get-online-features", { features: ["driver_stats:conv_rate", "driver_stats:trips", "driver_profile:rating"], entities: { driver_id: [1, 2, 3, 4] } });
    assert.equal(status, 200);
    const fresh = written.fresh.replace(/\.(\d{3})Z$/, ".$1Z");
    assert.deepEqual(json, {
      results: [
        { values: [1, 2, 3, 4], statuses: ["PRESENT", "PRESENT", "PRESENT", "PRESENT"], event_timestamps: Array(4).fill("1970-01-01T00:00:00Z") },
        { values: [0.5, null, null, null], statuses: ["PRESENT", "OUTSIDE_MAX_AGE", "NULL_VALUE", "NOT_FOUND"], event_timestamps: [fresh, written.old, fresh, "1970-01-01T00:00:00Z"] },
        { values: [10, null, 30, null], statuses: ["PRESENT", "OUTSIDE_MAX_AGE", "PRESENT", "NOT_FOUND"], event_timestamps: [fresh, written.old, fresh, "1970-01-01T00:00:00Z"] },
        { values: [2, null, 4.5, null], statuses: ["PRESENT", "NOT_FOUND", "PRESENT", "NOT_FOUND"], event_timestamps: [fresh, "1970-01-01T00:00:00Z", fresh, "1970-01-01T00:00:00Z"] },
      ],
      metadata: { feature_names: ["driver_id", "conv_rate", "trips", "rating"] },
    });
    const raw = (await post("/get-online-features", { features: ["driver_profile:rating"], entities: { driver_id: [1] } })).body;
    assert.match(raw, /"values":\[2\.0\]/, "floats keep a decimal point, so Feast's client keeps them floats");
  });

  it("serves a feature service with full names and version metadata; numeric strings are Int64 keys", async () => {
    const { json } = await postJson("/get-online-features", { feature_service: "ranking", entities: { driver_id: ["1"] }, full_feature_names: true, include_feature_view_version_metadata: true });
    assert.deepEqual(json.metadata, {
      feature_names: ["driver_id", "driver_stats__conv_rate", "driver_stats__trips", "driver_profile__city", "driver_profile__rating"],
      feature_view_metadata: [{ name: "driver_stats", version: 1 }, { name: "driver_profile", version: 1 }],
    });
    assert.deepEqual((json.results as { values: unknown[] }[]).map((r) => r.values[0]), [1, 0.5, 10, "ams", 2]);
  });

  it("adds degraded, a request id and view versions on the native route, and reads as of read_time", async () => {
    const { json } = await postJson("/v1/online-features", { features: ["driver_stats:conv_rate"], entities: { driver_id: [2] }, read_time: iso(90 * 60_000) });
    assert.equal(json.degraded, false);
    assert.match(json.request_id as string, /^[0-9a-z]+-[0-9a-f]{8}[0-9a-z]+$/, "<time, base 36>-<process tag><counter>");
    assert.ok(Math.abs(Number.parseInt((json.request_id as string).split("-")[0]!, 36) - Date.now()) < 60_000, "ids start with their time");
    assert.deepEqual(json.view_versions, { driver_stats: 1 });
    assert.deepEqual((json.results as { statuses: string[] }[])[1]?.statuses, ["PRESENT"], "1.5 h ago the 2 h old row was within its 1 h ttl");
  });

  it("serves a value read exactly at its ttl edge, and not a millisecond later", async () => {
    const statusAt = async (msAfterEdge: number): Promise<string | undefined> => {
      const readTime = new Date(Date.parse(written.old) + 3_600_000 + msAfterEdge).toISOString();
      const { json } = await postJson("/v1/online-features", { features: ["driver_stats:conv_rate"], entities: { driver_id: [2] }, read_time: readTime });
      return (json.results as { statuses: string[] }[])[1]?.statuses[0];
    };
    assert.equal(await statusAt(0), "PRESENT");
    assert.equal(await statusAt(1), "OUTSIDE_MAX_AGE");
  });

  it("pushes to the online store and to the offline store", async () => {
    const df = { driver_id: [7], event_timestamp: [iso(1000)], conv_rate: [0.75] };
    assert.equal((await post("/push", { push_source_name: "stats_push", df })).status, 200);
    assert.deepEqual(((await postJson("/get-online-features", { features: ["fresh_stats:conv_rate"], entities: { driver_id: [7] } })).json.results as { values: unknown[] }[])[1]?.values, [0.75]);
    const offline = await post("/push", { push_source_name: "stats_push", df: { ...df, conv_rate: [0.125] }, to: "offline" });
    assert.equal(offline.status, 200, offline.body);
    const set = await store.getHistoricalFeatures({ entities: [{ driver_id: 7, event_timestamp: new Date() }], features: ["fresh_stats:conv_rate"] });
    assert.deepEqual((await set.toRows()).map((r) => r.conv_rate), [0.125]);
    await set.close();
  });

  it("never lets an older write replace a newer one", async () => {
    assert.equal((await post("/write-to-online-store", { feature_view_name: "driver_stats", df: { driver_id: [1], ts: [iso(3_000_000)], conv_rate: [0.99], trips: [0] } })).status, 200);
    await online.populate.drain();
    const { json } = await postJson("/get-online-features", { features: ["driver_stats:conv_rate"], entities: { driver_id: [1] } });
    assert.deepEqual((json.results as { values: unknown[] }[])[1]?.values, [0.5]);
  });

  const badRequests: [string, string, unknown, number, RegExp][] = [
    ["malformed JSON", "/get-online-features", "{bad", 400, /not JSON/],
    ["an empty body", "/get-online-features", "", 400, /empty/],
    ["a body that is not an object", "/get-online-features", "[1]", 400, /JSON object/],
    ["no entities", "/get-online-features", { features: ["driver_stats:trips"] }, 400, /"entities" must be an object/],
    ["entities that are not lists", "/get-online-features", { features: ["driver_stats:trips"], entities: { driver_id: 1 } }, 400, /"entities.driver_id" must be a list/],
    ["features that are not a list", "/get-online-features", { features: "driver_stats:trips", entities: { driver_id: [1] } }, 400, /"features" must be a list/],
    ["a malformed feature reference", "/get-online-features", { features: ["driver_stats"], entities: { driver_id: [1] } }, 400, /bad feature reference/],
    ["an unknown view", "/get-online-features", { features: ["nope:x"], entities: { driver_id: [1] } }, 404, /feature view "nope" not found/],
    ["an unknown feature", "/get-online-features", { features: ["driver_stats:nope"], entities: { driver_id: [1] } }, 404, /feature "driver_stats:nope" not found/],
    ["an unknown service", "/get-online-features", { feature_service: "nope", entities: { driver_id: [1] } }, 404, /feature service "nope" not found/],
    ["a wrong key type", "/get-online-features", { features: ["driver_stats:trips"], entities: { driver_id: ["abc"] } }, 400, /must be an Int64 integer/],
    ["a missing join key", "/get-online-features", { features: ["driver_stats:trips"], entities: { rider: [1] } }, 400, /lack join key "driver_id"/],
    ["entity columns of different lengths", "/v1/online-features", { features: ["driver_stats:trips"], entities: { driver_id: [1, 2], other: [1] } }, 400, /differ in length|at most/],
    ["colliding feature names", "/get-online-features", { features: ["driver_stats:conv_rate", "fresh_stats:conv_rate"], entities: { driver_id: [1] } }, 400, /full_feature_names/],
    ["a bad flag", "/get-online-features", { features: ["driver_stats:trips"], entities: { driver_id: [1] }, full_feature_names: "maybe" }, 400, /true or false/],
    ["read_time on the Feast route", "/get-online-features", { features: ["driver_stats:trips"], entities: { driver_id: [1] }, read_time: "2024-01-01" }, 400, /native route/],
    ["an unknown push source", "/push", { push_source_name: "nope", df: { driver_id: [1] } }, 404, /push source "nope" not found/],
    ["a bad push target", "/push", { push_source_name: "stats_push", df: { driver_id: [1] }, to: "both" }, 400, /"to" must be/],
    ["a df missing feature columns", "/write-to-online-store", { feature_view_name: "driver_stats", df: { driver_id: [1], ts: [iso(0)] } }, 400, /lacks column "conv_rate", "trips"/],
    ["a df value of the wrong type", "/write-to-online-store", { feature_view_name: "driver_stats", df: { driver_id: [1], ts: [iso(0)], conv_rate: ["high"], trips: [1] } }, 400, /row 1, column "conv_rate": "high" is not a valid Float32/],
    ["a df with an unparseable time", "/write-to-online-store", { feature_view_name: "driver_stats", df: { driver_id: [1], ts: ["yesterday"], conv_rate: [1], trips: [1] } }, 400, /is not a timestamp/],
    ["an unknown view to write", "/write-to-online-store", { feature_view_name: "nope", df: { driver_id: [1] } }, 404, /not found/],
  ];
  for (const [name, path, body, status, message] of badRequests) {
    it(`answers ${name} with ${status}`, async () => {
      const response = await post(path, body);
      assert.equal(response.status, status, response.body);
      assert.match(errorMessage(response.body), message);
    });
  }

  it("names Feast's exception class by the error's type, not its wording", async () => {
    const feastClass = async (body: unknown): Promise<string> => (JSON.parse(JSON.parse((await post("/get-online-features", body)).body) as string) as { class: string }).class;
    assert.equal(await feastClass({ features: ["driver_stats:conv_rate", "fresh_stats:conv_rate"], entities: { driver_id: [1] } }), "FeatureNameCollisionError");
    assert.equal(await feastClass({ features: ["driver_stats:trips"], entities: { driver_id: [1] }, full_feature_names: "maybe" }), "FeastError", "a bad full_feature_names flag is no collision");
    assert.equal(await feastClass({ feature_service: "nope", entities: { driver_id: [1] } }), "FeatureServiceNotFoundException");
    assert.equal(await feastClass({ features: ["nope:x"], entities: { driver_id: [1] } }), "FeatureViewNotFoundException");
  });

  it("answers too many entities, unknown routes and wrong methods with 4xx", async () => {
    const many = await post("/get-online-features", { features: ["driver_stats:trips"], entities: { driver_id: Array.from({ length: 10_001 }, (_, i) => i) } });
    assert.equal(many.status, 400);
    assert.match(many.body, /at most 10000/);
    assert.equal((await app.handle({ method: "GET", path: "/nope", body: Buffer.alloc(0), headers: {} })).status, 404);
    assert.equal((await app.handle({ method: "GET", path: "/push", body: Buffer.alloc(0), headers: {} })).status, 405);
  });

  it("refuses an oversize body with 413 over real HTTP, and serves health and metrics", async () => {
    const server = await startHttpServer(app, { host: "127.0.0.1", port: 0, bodyLimitBytes: 1024 });
    try {
      const big = await fetch(`http://127.0.0.1:${server.port}/get-online-features`, { method: "POST", body: JSON.stringify({ entities: { driver_id: Array(600).fill(1) } }) });
      assert.equal(big.status, 413);
      assert.match(JSON.stringify(await big.json()), /over the limit of 1024 bytes/);
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/health`)).status, 200);
      const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      for (const name of ["strata_request_duration_seconds_bucket", "strata_cache_requests_total", "strata_durable_reads_total", "strata_degraded_rate", "strata_cache_circuit_state", "strata_populate_lag_seconds_count"]) {
        assert.match(metrics, new RegExp(`^${name}`, "m"));
      }
    } finally {
      await server.close();
    }
  });
});

/** The message of either error shape: Strata's {"error": {...}} or Feast's JSON string holding {"module", "class", "message"}. */
function errorMessage(body: string): string {
  const parsed = JSON.parse(body) as unknown;
  if (typeof parsed === "string") return (JSON.parse(parsed) as { message: string }).message;
  return (parsed as { error: { message: string } }).error.message;
}
