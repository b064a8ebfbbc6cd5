import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveProjectConfig } from "../../src/index.js";
import { newRequestId, requestIdTime } from "../../src/serving-log/request-id.js";

describe("serving log settings and request ids", () => {
  it("logs nothing by default, and rejects unknown keys and rates outside 0..1", () => {
    assert.deepEqual(resolveProjectConfig("/p", { project: "demo" }).servingLog, { services: {}, featureRefs: 0, flushIntervalMs: 1000, maxBufferedRows: 200_000, maxWriteAttempts: 5 });
    assert.deepEqual(resolveProjectConfig("/p", { project: "demo", servingLog: { services: { ranking: 0.25 } } }).servingLog.services, { ranking: 0.25 });
    assert.throws(() => resolveProjectConfig("/p", { project: "demo", servingLog: { services: { ranking: 1.5 } } }), { code: "CONFIG_INVALID", message: /"servingLog.services.ranking"/ });
    assert.throws(() => resolveProjectConfig("/p", { project: "demo", servingLog: { sampleRate: 1 } }), { code: "CONFIG_INVALID", message: /"servingLog".*"sampleRate"/ });
    assert.throws(() => resolveProjectConfig("/p", { project: "demo", servingLog: { featureRefs: -0.1 } }), { code: "CONFIG_INVALID", message: /"servingLog.featureRefs"/ });
  });

  it("makes unique request ids that start with their time and sort by it", () => {
    const at = Date.UTC(2024, 4, 1, 23, 59, 59, 999);
    const ids = [newRequestId(at), newRequestId(at), newRequestId(at + 1)];
    assert.equal(new Set(ids).size, 3);
    assert.deepEqual(ids.map(requestIdTime), [at, at, at + 1]);
    assert.ok(ids[1]! < ids[2]!, "later ids sort after");
    for (const bad of ["", "abc", "-1", "zzzzzzzzzzzz-1", "a b-1", "x-"]) assert.equal(requestIdTime(bad), undefined, bad);
  });
});
