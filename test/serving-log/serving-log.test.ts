import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startHttpServer, type RunningServer } from "../../src/server/http-server.js";
import { parseJsonExact } from "../../src/server/json.js";
import { ParquetLogSink, type ServingLogSink } from "../../src/serving-log/parquet-log-sink.js";
import { requestIdTime } from "../../src/serving-log/request-id.js";
import { ServingLogLayout } from "../../src/serving-log/serving-log-layout.js";
import { assertLoggedAsServed, loggedFeatures, loggedRows, type Served } from "./logged-rows.js";
import { openLoggedProject, writeValues, type LoggedProject } from "./logged-project.js";
import { readdir } from "node:fs/promises";

const metric = (text: string, name: string): number => Number(new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, "m").exec(text)?.[1] ?? 0);

/** The serving log with a real server over HTTP: what it records is exactly what the responses served. */
describe("serving log at 100% sampling", () => {
  let p: LoggedProject;
  let server: RunningServer;
  const served: Served[] = [];

  before(async () => {
    p = await openLoggedProject({ services: { ranking: 1, scoring: 1 }, featureRefs: 1, flushIntervalMs: 60_000 });
    await writeValues(p);
    server = await startHttpServer(p.app, { host: "127.0.0.1", port: 0, bodyLimitBytes: 1 << 20 });
  });
  after(async () => {
    await server.close();
    await p.close();
  });

  const http = async (path: string, body: Record<string, unknown>): Promise<{ id: string; json: Record<string, unknown> }> => {
    const response = await fetch(`http://127.0.0.1:${server.port}${path}`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
    assert.equal(response.status, 200);
    const json = parseJsonExact(await response.text()) as Record<string, unknown>;
    const header = response.headers.get("x-request-id");
    const id = path === "/get-online-features" ? header : (json.request_id as string);
    assert.ok(id !== null && requestIdTime(id) !== undefined, `a time-ordered request id, got ${id}`);
    if (path === "/get-online-features") assert.equal(json.request_id, undefined, "Feast's body stays Feast's");
    served.push({ requestId: id, service: typeof body.feature_service === "string" ? body.feature_service : null, entities: body.entities as Record<string, unknown[]>, body: json });
    return { id, json };
  };

  it("logs every response with the values, statuses, event times and view versions served", async () => {
    const customers = ["zq-subject-7f3e9a", "c-2", "c-3", "nobody"];
    await http("/get-online-features", { feature_service: "ranking", entities: { driver_id: [1] } });
    await http("/get-online-features", { feature_service: "ranking", entities: { driver_id: [1, 2, 3, 4] }, full_feature_names: true });
    await http("/v1/online-features", { feature_service: "ranking", entities: { driver_id: ["3", 2] } });
    await http("/v1/online-features", { features: ["driver_profile:city", "driver_stats:trips"], entities: { driver_id: [3, 1], unused: ["x", "y"] } });
    await http("/v1/online-features", { feature_service: "scoring", entities: { customer_id: customers, driver_id: [1, 2, 3, 4] } });
    await http("/get-online-features", { features: ["customer_profile:big", "customer_profile:seen_at", "customer_profile:embedding"], entities: { customer_id: customers } });
    await http("/v1/online-features", { feature_service: "scoring", entities: { customer_id: ['we"ird\\ key\t\n☃\u0001'], driver_id: [1] } });
    for (let i = 0; i < 40; i++) await http(i % 2 === 0 ? "/v1/online-features" : "/get-online-features", { feature_service: "ranking", entities: { driver_id: [(i % 4) + 1] } });
    await p.log!.flush();

    const rows = await loggedRows(await p.store.engine(), p.store.config.offline.path);
    const expectedRows = served.reduce((n, s) => n + (s.body.results as { values: unknown[] }[])[0]!.values.length, 0);
    assert.equal(rows.length, expectedRows, "one row per (response, entity row)");
    assert.equal(new Set(served.map((s) => s.requestId)).size, served.length, "request ids are unique");
    for (const s of served) assertLoggedAsServed(rows, s, new Set(["customer_profile:seen_at"]));

    const customer = rows.find((r) => r.service === null && r.subject_keys.includes("customer_id=zq-subject-7f3e9a"))!;
    assert.deepEqual(
      loggedFeatures(customer).map((f) => f.value),
      [9007199254740993n, "2024-05-01T10:00:00.654321Z", [0.5, -1.25]],
      "Int64 beyond 2^53 exact, timestamps to the microsecond",
    );
    const scoring = rows.find((r) => r.service === "scoring" && r.row_index === 0)!;
    assert.deepEqual(scoring.subject_keys, ["customer_id=zq-subject-7f3e9a", "driver_id=1"], "one join_key=value per join key of the row");
    assert.deepEqual(JSON.parse(scoring.entity), { customer_id: "zq-subject-7f3e9a", driver_id: 1 });
    const numericString = rows.find((r) => r.request_id === served[2]!.requestId && r.row_index === 0)!;
    assert.deepEqual(numericString.subject_keys, ["driver_id=3"], "an integer key sent as a string is logged in decimal");
    for (const r of rows) assert.equal(r.served_at.slice(0, 10), new Date(requestIdTime(r.request_id)!).toISOString().slice(0, 10), "the id's date is the partition's");

    const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    assert.equal(metric(metrics, "strata_serving_log_rows_total"), expectedRows);
    assert.equal(metric(metrics, "strata_serving_log_files_total"), 1);
    const layout = new ServingLogLayout(p.store.config.offline.path);
    assert.deepEqual(await readdir(layout.stagingDir), [], "nothing left in staging");
  });
});

describe("serving log: a lone surrogate in a request", () => {
  it("is logged as U+FFFD, and the other responses of its file are written too", async () => {
    const p = await openLoggedProject({ featureRefs: 1, flushIntervalMs: 60_000 });
    try {
      // JSON.stringify escapes the lone surrogate as \ud800, as a client would send it.
      for (const customer of ["c-2", "\ud800x", "c-3"]) assert.equal((await p.post("/v1/online-features", { features: ["customer_profile:segment"], entities: { customer_id: [customer] } })).status, 200);
      await p.log!.flush();
      const rows = await loggedRows(await p.store.engine(), p.store.config.offline.path);
      assert.deepEqual(rows.map((r) => (JSON.parse(r.entity) as { customer_id: string }).customer_id).sort(), ["c-2", "c-3", "\ufffdx"]);
      assert.deepEqual(rows.map((r) => r.subject_keys[0]).sort(), ["customer_id=c-2", "customer_id=c-3", "customer_id=\ufffdx"]);
      assert.equal(p.log!.metrics.dropped.value({ reason: "write_failed" }), 0);
    } finally {
      await p.close();
    }
  });
});

describe("serving log sampling", () => {
  it("logs nothing at rate 0 (per service, and for feature lists by default)", async () => {
    const p = await openLoggedProject({ services: { ranking: 0, scoring: 1 }, flushIntervalMs: 60_000 });
    try {
      for (let i = 0; i < 50; i++) {
        assert.equal((await p.post("/get-online-features", { feature_service: "ranking", entities: { driver_id: [1] } })).status, 200);
        assert.equal((await p.post("/v1/online-features", { features: ["driver_stats:trips"], entities: { driver_id: [1] } })).status, 200);
      }
      await p.log!.flush();
      assert.deepEqual(await loggedRows(await p.store.engine(), p.store.config.offline.path), []);
      assert.equal(p.log!.metrics.files.value(), 0);
    } finally {
      await p.close();
    }
  });

  it("logs no server at all when every rate is 0 (the default)", async () => {
    const p = await openLoggedProject({});
    try {
      assert.equal(p.log, undefined);
      const { headers, json } = await p.post("/v1/online-features", { features: ["driver_stats:trips"], entities: { driver_id: [1] } });
      assert.ok(requestIdTime(json.request_id as string) !== undefined);
      assert.equal(headers["x-request-id"], undefined);
      assert.ok(requestIdTime((await p.post("/get-online-features", { features: ["driver_stats:trips"], entities: { driver_id: [1] } })).headers["x-request-id"]!) !== undefined);
    } finally {
      await p.close();
    }
  });

  it("logs about half of 2,000 responses at rate 0.5 (within 5 standard deviations)", async () => {
    const p = await openLoggedProject({ services: { ranking: 0.5 }, flushIntervalMs: 60_000 });
    try {
      const ids = new Set<string>();
      for (let i = 0; i < 2000; i++) ids.add((await p.post("/v1/online-features", { feature_service: "ranking", entities: { driver_id: [i % 7] } })).json.request_id as string);
      await p.log!.flush();
      const rows = await loggedRows(await p.store.engine(), p.store.config.offline.path);
      const bound = 5 * Math.sqrt(2000 * 0.25);
      assert.ok(Math.abs(rows.length - 1000) <= bound, `${rows.length} logged, expected 1000 ± ${bound.toFixed(0)}`);
      assert.ok(rows.every((r) => ids.has(r.request_id)));
      assert.equal(new Set(rows.map((r) => r.request_id)).size, rows.length);
    } finally {
      await p.close();
    }
  });
});

/** A sink that holds every write until released (a slow disk), or fails the first `failures` writes. */
function gatedSink(real: ServingLogSink, options: { failures?: number } = {}) {
  let release: () => void = () => undefined;
  const gate = { open: new Promise<void>((resolve) => (release = resolve)), calls: 0, failures: options.failures ?? 0 };
  const sink: ServingLogSink = {
    async write(date, chunks, features) {
      gate.calls++;
      if (gate.calls <= gate.failures) throw new Error("disk full");
      await gate.open;
      return real.write(date, chunks, features);
    },
    close: () => real.close(),
  };
  return { sink, release: () => release(), gate };
}

describe("serving log limits", () => {
  it("drops and counts responses when the buffer is full, and never makes a request wait", async () => {
    let gated: ReturnType<typeof gatedSink> | undefined;
    const p = await openLoggedProject({ services: { ranking: 1 }, flushIntervalMs: 60_000, maxBufferedRows: 10 }, (root) => (gated = gatedSink(new ParquetLogSink(root))).sink);
    try {
      await writeValues(p);
      const started = performance.now();
      const responses = await Promise.all(Array.from({ length: 30 }, (_, i) => p.post("/v1/online-features", { feature_service: "ranking", entities: { driver_id: [i] } })));
      assert.ok(responses.every((r) => r.status === 200));
      assert.ok(performance.now() - started < 5_000, "requests answered while the log's write is stuck");
      assert.equal(p.log!.metrics.dropped.value({ reason: "buffer_full" }), 20);
      gated!.release();
      await p.log!.close();
      const rows = await loggedRows(await p.store.engine(), p.store.config.offline.path);
      const logged = new Set(responses.slice(0, 10).map((r) => r.json.request_id as string));
      assert.deepEqual(new Set(rows.map((r) => r.request_id)), logged, "the first 10 were kept, the rest dropped");
    } finally {
      await p.close();
    }
  });

  it("retries a failed write on the next flush, and gives up after maxWriteAttempts", async () => {
    let gated: ReturnType<typeof gatedSink> | undefined;
    const p = await openLoggedProject({ services: { ranking: 1 }, flushIntervalMs: 60_000, maxWriteAttempts: 2 }, (root) => (gated = gatedSink(new ParquetLogSink(root), { failures: 1 })).sink);
    try {
      gated!.release();
      const first = (await p.post("/v1/online-features", { feature_service: "ranking", entities: { driver_id: [1, 2] } })).json.request_id as string;
      await p.log!.flush();
      assert.equal(p.log!.metrics.flushFailures.value(), 1);
      assert.deepEqual(await loggedRows(await p.store.engine(), p.store.config.offline.path), []);
      const second = (await p.post("/v1/online-features", { feature_service: "ranking", entities: { driver_id: [3] } })).json.request_id as string;
      await p.log!.flush();
      const rows = await loggedRows(await p.store.engine(), p.store.config.offline.path);
      assert.deepEqual(rows.map((r) => [r.request_id, r.row_index]).sort(), [[first, 0], [first, 1], [second, 0]].sort(), "the failed rows once, with the new ones");
      gated!.gate.failures = 100;
      await p.post("/v1/online-features", { feature_service: "ranking", entities: { driver_id: [4] } });
      await p.log!.flush();
      await p.log!.flush();
      assert.equal(p.log!.metrics.dropped.value({ reason: "write_failed" }), 1);
      assert.equal(p.log!.metrics.flushFailures.value(), 3);
    } finally {
      await p.close();
    }
  });

  it("writes what is buffered when it closes", async () => {
    const p = await openLoggedProject({ featureRefs: 1, flushIntervalMs: 60_000 });
    const id = (await p.post("/v1/online-features", { features: ["driver_stats:trips"], entities: { driver_id: [1, 2, 3] } })).json.request_id as string;
    await p.close();
    const { DuckDb } = await import("../../src/offline/duckdb.js");
    const duck = await DuckDb.open();
    try {
      const rows = await loggedRows(duck, p.store.config.offline.path);
      assert.deepEqual(rows.map((r) => [r.request_id, r.row_index]), [[id, 0], [id, 1], [id, 2]]);
    } finally {
      duck.close();
    }
  });
});
