import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { slideLengths, windowShapes } from "../../src/aggregation/day-blocks.js";
import type { AggregateSpec } from "../../src/definitions/specs.js";

const agg = (windowSeconds: number, hopSeconds: number): AggregateSpec => ({ name: `w${windowSeconds}h${hopSeconds}`, column: null, function: "count", windowSeconds, hopSeconds });
const HOUR = 3600;
const DAY = 86_400;

describe("day-block window shapes", () => {
  it("lists every day offset of a window's start, and the slides the whole days between need", () => {
    const shapes = windowShapes([agg(HOUR, 300), agg(7 * DAY, HOUR), agg(36 * HOUR, HOUR), agg(4 * DAY, DAY), agg(DAY, HOUR), agg(7 * DAY, HOUR)]);
    assert.deepEqual(
      shapes.map((s) => [s.windowSeconds, s.hopSeconds, s.dayOffsets]),
      [
        [HOUR, 300, [0, 1]], // starts on t's day from 01:00, the day before until then
        [7 * DAY, HOUR, [7]],
        [36 * HOUR, HOUR, [1, 2]],
        [4 * DAY, DAY, [4]],
        [DAY, HOUR, [1]],
      ],
      "one shape per distinct (window, hop)",
    );
    assert.deepEqual(slideLengths(shapes), [1, 3, 6]);
    assert.deepEqual(slideLengths(windowShapes([agg(HOUR, 300), agg(DAY, HOUR)])), [], "windows of a day or less need no slides");
  });
});
