import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatDuration, parseDuration, parseFeatureRef, resolveProjectConfig } from "../../src/index.js";

describe("durations", () => {
  it("parses units and combinations into seconds, and formats them back", () => {
    const cases: [string | number, number, string][] = [
      ["90s", 90, "1m30s"],
      ["15m", 900, "15m"],
      ["2h", 7200, "2h"],
      ["2d", 172_800, "2d"],
      ["1w", 604_800, "1w"],
      ["1d12h", 129_600, "1d12h"],
      [3600, 3600, "1h"],
      ["0s", 0, "0s"],
    ];
    for (const [input, seconds, formatted] of cases) {
      assert.deepEqual(parseDuration(input), { seconds });
      assert.equal(formatDuration(seconds), formatted);
    }
  });

  it("rejects what is not a duration", () => {
    for (const bad of ["", "2x", "d", "1.5h", "-1h", "1h 30m", 1.5, -3]) assert.ok("error" in parseDuration(bad), String(bad));
  });
});

describe("feature references", () => {
  it("parses view:feature and view@vN:feature", () => {
    assert.deepEqual(parseFeatureRef("stats:conv_rate"), { view: "stats", version: null, feature: "conv_rate" });
    assert.deepEqual(parseFeatureRef("stats@v2:conv_rate"), { view: "stats", version: 2, feature: "conv_rate" });
    for (const bad of ["stats", "stats:", ":x", "stats@2:x", "a:b:c"]) assert.throws(() => parseFeatureRef(bad), { code: "REQUEST_INVALID" });
  });
});

describe("project configuration", () => {
  it("fills embedded defaults and makes paths absolute", () => {
    const config = resolveProjectConfig("/p", { project: "demo" });
    assert.deepEqual(
      { registry: config.registry, offline: config.offline, online: { type: config.online.type, path: (config.online as { path: string }).path }, definitions: config.definitions },
      { registry: { type: "sqlite", path: "/p/.strata/registry.db" }, offline: { path: "/p/.strata/offline" }, online: { type: "sqlite", path: "/p/.strata/online.db" }, definitions: "/p/features.ts" },
    );
    const { cache } = config.online;
    assert.deepEqual([cache.type, cache.readTimeoutMs, cache.xfetch, cache.singleFlight, cache.circuit], ["memory", 5, { enabled: true, beta: 1 }, true, { failureRate: 0.5, minCalls: 20, windowMs: 1000, openMs: 500 }]);
    assert.deepEqual([config.server.port, config.server.snapshot], [6566, "/p/.strata/snapshot.json"]);
  });

  it("accepts PostgreSQL stores and names the offending key of a bad file", () => {
    const config = resolveProjectConfig("/p", { project: "demo", registry: { type: "postgres", url: "postgres://x/y" } });
    assert.deepEqual(config.registry, { type: "postgres", url: "postgres://x/y", schema: "strata" });
    assert.throws(() => resolveProjectConfig("/p", { project: "demo", registry: { type: "postgres" } }), { code: "CONFIG_INVALID", message: /"registry.url"/ });
    assert.throws(() => resolveProjectConfig("/p", { project: "demo", registry: { type: "sqlite", pth: "x" } }), { code: "CONFIG_INVALID", message: /"registry".*"pth"/ });
    assert.throws(() => resolveProjectConfig("/p", { project: "my-demo" }), { code: "CONFIG_INVALID", message: /"project"/ });
    assert.throws(() => resolveProjectConfig("/p", { project: "demo", duckdb: { threads: 0 } }), { code: "CONFIG_INVALID", message: /"duckdb.threads"/ });
    assert.throws(() => resolveProjectConfig("/p", { project: "demo", online: { type: "sqlite", cache: { type: "redis" } } }), { code: "CONFIG_INVALID", message: /"online.cache.url": a redis cache needs url/ });
    assert.throws(() => resolveProjectConfig("/p", { project: "demo", online: { type: "sqlite", cache: { xfetch: { beta: 1, on: true } } } }), { code: "CONFIG_INVALID", message: /"online.cache.xfetch".*"on"/ });
  });
});
