import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EventValue } from "../../src/aggregation/tile-state.js";
import { PendingEvents } from "../../src/stream/pending-events.js";

interface Kept {
  ts: number;
  cr: number;
  values: Record<string, EventValue>;
}

/** Deterministic pseudo-random numbers (a test that fails must fail again). */
function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

describe("pending events (a stream commit's events, a list per key, in float records)", () => {
  it("gives back each key's events in arrival order with their values, across growth and interleaved keys (oracle: a plain list per key)", () => {
    const rand = random(7);
    const columns = ["amount", "merchant", "flag"];
    const pending = new PendingEvents(columns);
    const oracle = new Map<number, Kept[]>();
    const lists = new Map<number, { first: number; last: number }>();
    const pick = (): EventValue => {
      const r = rand();
      if (r < 0.15) return null;
      if (r < 0.3) return `m${Math.floor(rand() * 50)}`;
      if (r < 0.4) return rand() < 0.5;
      if (r < 0.45) return 0;
      if (r < 0.5) return -0.5;
      return (rand() - 0.5) * 1e6;
    };
    // 20k events over 300 keys: several times the initial capacity, each key's events far apart.
    for (let n = 0; n < 20_000; n++) {
      const key = Math.floor(rand() * 300);
      const event: Kept = { ts: 1e15 + n * 1000, cr: 2e15 + n, values: {} };
      for (const c of columns) if (rand() > 0.1) event.values[c] = pick(); // an absent column is a null
      const list = lists.get(key);
      const i = pending.push(event.ts, event.cr, event.values, list?.last ?? -1);
      assert.equal(i, n);
      lists.set(key, { first: list?.first ?? i, last: i });
      oracle.set(key, [...(oracle.get(key) ?? []), event]);
    }
    assert.equal(pending.length, 20_000);
    assert.deepEqual([...pending.times()], Array.from({ length: 20_000 }, (_, n) => 1e15 + n * 1000), "every event's time, in push order");
    for (const [key, { first }] of lists) {
      const seen: Kept[] = [];
      pending.each(first, (e) => seen.push({ ts: e.ts, cr: e.cr, values: { ...e.values } }));
      const expected = oracle.get(key)!.map((e) => ({ ...e, values: Object.fromEntries(columns.map((c) => [c, e.values[c] ?? null])) }));
      assert.deepEqual(seen, expected, `key ${key}`);
    }
  });

  it("gives nothing for an empty list, and one event for a key's only one", () => {
    const pending = new PendingEvents(["amount"]);
    let calls = 0;
    pending.each(-1, () => calls++);
    assert.equal(calls, 0);
    assert.deepEqual([...pending.times()], []);
    const i = pending.push(5, 6, { amount: 1.25 }, -1);
    pending.push(7, 8, { amount: 2 }, -1); // another key's
    const seen: Kept[] = [];
    pending.each(i, (e) => seen.push({ ts: e.ts, cr: e.cr, values: { ...e.values } }));
    assert.deepEqual(seen, [{ ts: 5, cr: 6, values: { amount: 1.25 } }]);
  });
});
