import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hopGroups } from "../../src/aggregation/tile-partials.js";
import { KeyState } from "../../src/aggregation/tile-state.js";
import type { AggregateSpec } from "../../src/definitions/specs.js";

const H = 3_600_000_000;
const agg = (name: string, column: string | null, fn: AggregateSpec["function"], hours: number): AggregateSpec => ({ name, column, function: fn, windowSeconds: hours * 3600, hopSeconds: 3600 });
const aggregates = [agg("n", null, "count", 3), agg("x_sum", "x", "sum", 3), agg("x_min", "x", "min", 3), agg("s_last", "s", "last", 3), agg("s_max", "s", "max", 3), agg("b_last", "b", "last", 3), agg("x_last", "x", "last", 3)];
const groups = hopGroups(aggregates);

describe("the stored encoding of a key's tiles", () => {
  it("round-trips numbers, text, booleans, nulls and open tiles' raw events exactly", () => {
    const state = KeyState.empty(groups);
    const events = [
      { ts: 0, cr: 5, values: { x: -0.1, s: "b", b: true } },
      { ts: 10, cr: 6, values: { x: null, s: null, b: false } },
      { ts: H + 1, cr: H + 2, values: { x: 1e308, s: "a|b", b: null } },
      { ts: 2 * H + 3, cr: 2 * H + 3, values: { x: 2.5, s: "", b: true } },
      { ts: 2 * H + 4, cr: 2 * H + 9, values: { x: -7, s: 'q"u"ote', b: false } },
    ];
    for (const e of events) state.add(e, H); // the first tile is closed at this watermark, the others keep their events
    const text = state.encode();
    const decoded = KeyState.decode(groups, text);
    assert.equal(decoded.encode(), text);
    for (const t of [1, 11, H + 1, H + 2, 2 * H + 4, 2 * H + 5, 3 * H, 4 * H]) assert.deepEqual(decoded.valuesAt(t), state.valuesAt(t), `at ${t}`);
    assert.deepEqual(decoded.valuesAt(H + 2), { n: 3, x_sum: -0.1 + 1e308, x_min: -0.1, x_last: 1e308, s_last: "a|b", s_max: "b", b_last: false });
    assert.deepEqual(decoded.valuesAt(2 * H + 5), { n: 5, x_sum: -0.1 + 1e308 + 2.5 - 7, x_min: -7, x_last: -7, s_last: 'q"u"ote', s_max: 'q"u"ote', b_last: false });
    assert.deepEqual(decoded.valuesAt(6 * H), { n: 0, x_sum: null, x_min: null, x_last: null, s_last: null, s_max: null, b_last: null });
  });

  it("is empty text for no tiles and refuses a state of other tiles", () => {
    assert.deepEqual(KeyState.decode(groups, KeyState.empty(groups).encode()).valuesAt(H), KeyState.empty(groups).valuesAt(H));
    const other = hopGroups([agg("n", null, "count", 3), { ...agg("y", "y", "sum", 3), hopSeconds: 1800 }]);
    const state = KeyState.empty(other);
    state.add({ ts: 0, cr: 0, values: { y: 1 } }, -1);
    assert.throws(() => KeyState.decode(groups, state.encode()), /does not match the view's tiles/);
    assert.throws(() => KeyState.decode(groups, '{"h":{"3600":[]}}'), /in an earlier format/);
  });
});
