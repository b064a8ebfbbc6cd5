import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { hopGroups } from "../../src/aggregation/tile-partials.js";
import { KeyState, type StateEvent } from "../../src/aggregation/tile-state.js";
import { floatPool } from "../../src/aggregation/float-pool.js";
import { decodeFloats, encodeFloats } from "../../src/aggregation/key-state-codec.js";
import { tileEnd, tileLayout } from "../../src/aggregation/tile-layout.js";
import type { AggregateSpec } from "../../src/definitions/specs.js";
import { sameValue, windowValue, type OracleEvent } from "../helpers/window-oracle.js";

const M = 60_000_000;
const agg = (name: string, column: string | null, fn: AggregateSpec["function"], windowMin: number, hopMin: number): AggregateSpec => ({ name, column, function: fn, windowSeconds: windowMin * 60, hopSeconds: hopMin * 60 });
const aggregates = [
  agg("count_10m", null, "count", 10, 5),
  agg("x_sum_15m", "x", "sum", 15, 5),
  agg("x_mean_30m", "x", "mean", 30, 10),
  agg("x_min_20m", "x", "min", 20, 5),
  agg("x_max_1h", "x", "max", 60, 5),
  agg("x_count_1h", "x", "count", 60, 60),
  agg("s_last_45m", "s", "last", 45, 15),
  agg("s_max_2h", "s", "max", 120, 60),
];
const groups = hopGroups(aggregates);

const step = fc.record({
  ts: fc.integer({ min: 0, max: 360 }).map((h) => h * (M / 2)),
  delay: fc.integer({ min: 0, max: 30 }).map((m) => m * M),
  x: fc.option(fc.integer({ min: -10_000, max: 10_000 }).map((c) => c / 100), { nil: null, freq: 5 }),
  s: fc.option(fc.constantFrom("a", "b", "c"), { nil: null, freq: 5 }),
  readAfter: fc.option(fc.integer({ min: 0, max: 20 }).map((m) => m * M), { nil: null, freq: 2 }),
  seal: fc.boolean(),
});

/**
 * The streaming state against the brute-force oracle: events arrive in created-time order; the
 * watermark is the newest event time minus the allowed lateness; later events are refused (the
 * dead-letter path) and so absent from both; reads at t at or after the arrivals so far see
 * exactly the accepted events. Compaction and round trips through the stored encodings happen
 * along the way: whole, and as a head with sealed tiles cut at an earlier watermark (as a stream
 * commit stores it; the sealed part may hold tiles compacted away since).
 */
/** Whether each group's tiles, as stored, have strictly ascending starts (no hop twice). */
function tilesAscend(state: KeyState): boolean {
  const { floats } = decodeFloats(tileLayout(groups), state.encode());
  let at = 0;
  for (const g of tileLayout(groups)) {
    let previous = -Infinity;
    for (let k = floats[at++]!; k > 0; k--) {
      if (!(floats[at]! > previous)) return false;
      previous = floats[at]!;
      at = tileEnd(g, floats, at);
    }
  }
  return true;
}

/** Releases the old state (its floats may be handed to the next state that grows) for the new one. */
function replaced(old: KeyState, next: KeyState): KeyState {
  old.release();
  return next;
}

describe("KeyState (streaming tiles) matches the window oracle", () => {
  it("for random arrivals, lateness, compaction and restarts from the stored encoding", () => {
    // States grow into pooled floats left full of garbage: nothing may rely on fresh arrays being zeroed.
    const poisoned = Array.from({ length: 400 }, (_, i) => floatPool.take(16 * 1.25 ** (i % 20)).fill(i % 2 === 0 ? NaN : 7.25));
    for (const floats of poisoned) floatPool.release(floats);
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.integer({ min: 0, max: 20 }), (steps, latenessMin) => {
        const arrivals = steps.map((s, i) => ({ ...s, cr: s.ts + s.delay, i })).sort((a, b) => a.cr - b.cr || a.i - b.i);
        let state = KeyState.empty(groups);
        let maxTs = -Infinity;
        const accepted: OracleEvent[] = [];
        let split = -Infinity;
        let sealed: string | undefined;
        for (const [n, e] of arrivals.entries()) {
          const before = maxTs - latenessMin * M;
          if (e.ts >= before) {
            const event: StateEvent = { ts: e.ts, cr: e.cr, values: { x: e.x, s: e.s } };
            state.add(event, before);
            assert.ok(tilesAscend(state), "each group's tiles ascend by start, one per hop");
            accepted.push({ key: "k", ts: e.ts, cr: e.cr, values: { x: e.x, s: e.s } });
            maxTs = Math.max(maxTs, e.ts);
          }
          const watermark = maxTs - latenessMin * M;
          state.compact(watermark);
          if (e.seal && watermark > split) {
            sealed = state.encodeSealed(watermark);
            split = watermark;
          }
          // The replaced state's floats go back to the pool, stale, for the next states that grow.
          if (n % 4 === 1) state = replaced(state, KeyState.decode(groups, state.encode()));
          if (n % 4 === 3) state = replaced(state, KeyState.decode(groups, state.encodeHead(split), sealed));
          if (e.readAfter !== null) {
            const t = Math.max(e.cr, maxTs) + e.readAfter;
            const got = state.valuesAt(t);
            for (const a of aggregates) {
              const expected = windowValue(accepted, "k", t, a);
              assert.ok(sameValue(got[a.name], expected, 100 * accepted.length), `${a.name} at ${t / M}m: got ${String(got[a.name])}, expected ${String(expected)}`);
            }
          }
        }
        state.release();
      }),
      { numRuns: 300 },
    );
  });

  it("takes events in and out of order into a stored state whose tiles do not ascend (as states written before 2026-12 may)", () => {
    const layout = tileLayout(groups);
    /** A stored state with each group's tiles in reverse order. */
    const reversed = (text: string): string => {
      const { floats, used, others } = decodeFloats(layout, text);
      assert.equal(others.size, 0);
      const out: number[] = [];
      let at = 0;
      for (const g of layout) {
        const count = floats[at++]!;
        const tiles: number[][] = [];
        for (let k = 0; k < count; k++) tiles.push([...floats.subarray(at, (at = tileEnd(g, floats, at)))]);
        out.push(count, ...tiles.reverse().flat());
      }
      assert.equal(out.length, used);
      return encodeFloats({ floats: Float64Array.from(out), used, others });
    };
    const minutes = [0, 7, 31, 64, 95, 121, 118, 64, 3, 150, 149, 180];
    const accepted: OracleEvent[] = minutes.map((m, i) => ({ key: "k", ts: m * M, cr: (200 + i) * M, values: { x: i + 0.5, s: null } }));
    const inOrder = KeyState.empty(groups);
    let fromReversed = KeyState.empty(groups);
    for (const [i, e] of accepted.entries()) {
      inOrder.add(e, -Infinity);
      fromReversed.add(e, -Infinity);
      if (i === 5) fromReversed = KeyState.decode(groups, reversed(fromReversed.encode()));
    }
    for (let t = 0; t <= 240; t += 3) assert.deepEqual(fromReversed.valuesAt(t * M), inOrder.valuesAt(t * M), `at ${t}m`);
    // One tile per hop an event fell in: an event for a tile the state holds finds it, wherever it is.
    const hops = layout.reduce((n, g) => n + new Set(minutes.map((m) => Math.floor((m * M) / g.hopMicros))).size, 0);
    assert.equal(inOrder.countTiles(() => true), hops);
    assert.equal(fromReversed.countTiles(() => true), hops);
    for (let t = 0; t <= 240; t += 3) {
      const got = fromReversed.valuesAt(t * M);
      for (const a of aggregates) assert.ok(sameValue(got[a.name], windowValue(accepted, "k", t * M, a), 100), `${a.name} at ${t}m`);
    }
  });

  it("refuses a head without its sealed tiles, or with sealed tiles cut at another split", () => {
    const state = KeyState.empty(groups);
    for (let i = 0; i < 12; i++) state.add({ ts: i * 20 * M, cr: i * 20 * M, values: { x: i, s: "a" } }, (i - 1) * 20 * M);
    const split = 120 * M;
    const head = state.encodeHead(split);
    assert.ok(head.startsWith(`@${split};`));
    assert.throws(() => KeyState.decode(groups, head), /sealed tiles are missing/);
    assert.throws(() => KeyState.decode(groups, head, state.encodeSealed(split - 60 * M)), /were cut at/);
    const whole = KeyState.decode(groups, head, state.encodeSealed(split));
    for (let t = 0; t <= 300; t += 7) assert.deepEqual(whole.valuesAt(t * M), state.valuesAt(t * M));
    assert.ok(state.countTiles(() => true) > state.countTiles((g, start) => start + g.hopMicros <= split));
  });
});
