import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { decodeEntry, encodeEntry } from "../../src/online/cache/cache-entry.js";
import { CircuitBreaker } from "../../src/online/read/circuit-breaker.js";
import { oldestServedMicros } from "../../src/online/read/feature-status.js";
import { SingleFlight } from "../../src/online/read/single-flight.js";
import { withTimeout, TimeoutError } from "../../src/online/read/with-timeout.js";
import { shouldRefreshEarly } from "../../src/online/read/xfetch.js";

describe("circuit breaker", () => {
  const settings = { failureRate: 0.5, minCalls: 4, windowMs: 1000, openMs: 1000 };

  it("opens when most calls of the window fail, lets one probe through when half-open, closes on its success", () => {
    let now = 0;
    const breaker = new CircuitBreaker(settings, () => now);
    breaker.failure();
    breaker.failure();
    breaker.failure();
    assert.equal(breaker.state, "closed", "3 calls: below the minimum to judge");
    breaker.success();
    assert.equal(breaker.state, "closed", "only a failure can open it");
    breaker.failure();
    assert.equal(breaker.state, "open", "4 of 5 failed");
    assert.equal(breaker.allow(), false);
    now = 999;
    assert.equal(breaker.allow(), false);
    now = 1000;
    assert.equal(breaker.state, "half-open");
    assert.equal(breaker.allow(), true, "the probe");
    assert.equal(breaker.allow(), false, "only one probe at a time");
    breaker.success();
    assert.equal(breaker.state, "closed");
    assert.equal(breaker.allow(), true);
  });

  it("does not open on a burst of failures among many successes (one stalled round trip)", () => {
    let now = 0;
    const breaker = new CircuitBreaker(settings, () => now);
    for (let i = 0; i < 100; i++) breaker.success();
    for (let i = 0; i < 32; i++) breaker.failure();
    assert.equal(breaker.state, "closed");
    now = 1200; // the successes have left the window: failures alone now decide
    for (let i = 0; i < 4; i++) breaker.failure();
    assert.equal(breaker.state, "open");
  });

  it("re-opens for a full period when the probe fails", () => {
    let now = 0;
    const breaker = new CircuitBreaker({ ...settings, minCalls: 1, openMs: 100 }, () => now);
    breaker.failure();
    now = 100;
    assert.equal(breaker.allow(), true);
    breaker.failure();
    assert.equal(breaker.state, "open");
    now = 199;
    assert.equal(breaker.allow(), false);
    now = 200;
    assert.equal(breaker.allow(), true);
  });
});

describe("XFetch", () => {
  it("never refreshes far from expiry and always at or past it", () => {
    assert.equal(shouldRefreshEarly(0, 10_000, 10, 1, () => 0.5), false);
    assert.equal(shouldRefreshEarly(10_000, 10_000, 10, 1, () => 0.999999), true);
    assert.equal(shouldRefreshEarly(10_001, 10_000, 0, 1, () => 0), true);
  });

  it("refreshes more often as expiry nears, and more for costly entries or a larger beta", () => {
    const rate = (now: number, delta: number, beta: number): number => {
      let hits = 0;
      let seed = 1;
      const random = (): number => ((seed = (seed * 48271) % 2147483647) / 2147483647);
      for (let i = 0; i < 20_000; i++) if (shouldRefreshEarly(now, 1000, delta, beta, random)) hits++;
      return hits / 20_000;
    };
    assert.ok(rate(900, 10, 1) < rate(990, 10, 1));
    assert.ok(rate(990, 10, 1) < rate(990, 50, 1));
    assert.ok(rate(990, 10, 1) < rate(990, 10, 3));
    // P(refresh) = exp(-(expiry - now) / (delta * beta)): 100 ms before expiry, delta 50 ms → e^-2
    assert.ok(Math.abs(rate(900, 50, 1) - Math.exp(-2)) < 0.01);
  });
});

describe("single-flight", () => {
  it("shares one load among callers asking for the same keys while it runs", async () => {
    const flight = new SingleFlight<number>();
    const loads: string[][] = [];
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const load = async (keys: readonly string[]): Promise<Map<string, number>> => {
      loads.push([...keys]);
      await gate;
      return new Map(keys.map((k) => [k, k.length]));
    };
    const first = flight.claim(["a", "bb"], load);
    const second = flight.claim(["bb", "ccc"], load);
    release();
    assert.deepEqual(await Promise.all([first.get("a"), first.get("bb"), second.get("bb"), second.get("ccc")]), [1, 2, 2, 3]);
    assert.deepEqual(loads, [["a", "bb"], ["ccc"]]);
    await new Promise((r) => setImmediate(r));
    assert.equal(flight.get("a"), undefined, "done loads are forgotten");
  });
});

describe("timeouts and statuses", () => {
  it("rejects late work with TimeoutError and passes quick work through", async () => {
    await assert.rejects(withTimeout(new Promise((r) => setTimeout(r, 50)), 5), TimeoutError);
    assert.equal(await withTimeout(Promise.resolve(7), 5), 7);
  });

  it("serves a value exactly at the ttl edge, and none older; no ttl never expires", () => {
    const now = 10_000_000_000;
    assert.equal(oldestServedMicros(60, now), now - 60_000_000);
    assert.equal(oldestServedMicros(null, now), -Infinity);
  });
});

describe("cache entries", () => {
  it("round-trip, values containing the separator included", () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.nat(), fc.nat(), fc.nat(), fc.string(), (writeTs, expiresAt, deltaMs, eventTs, createdTs, text) => {
        const values = JSON.stringify({ s: `${text}|x|` });
        const entry = { record: { entityKey: "k", values, eventTs, createdTs, writeTs }, writeTs, expiresAt, deltaMs };
        assert.deepEqual(decodeEntry(encodeEntry(entry), "k"), entry);
      }),
    );
    const negative = { record: null, writeTs: 0, expiresAt: 5, deltaMs: 1 };
    assert.deepEqual(decodeEntry(encodeEntry(negative), "k"), negative);
    assert.equal(decodeEntry("garbage", "k"), undefined);
  });
});
