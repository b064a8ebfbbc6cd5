import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Histogram } from "../../src/monitoring/metrics.js";

const bounds = [0.01, 0.05, 0.1, 0.5, 1, 5];

/** Values on every bound and either side of it, below the first, above the last, and random ones. */
function values(seed: number): number[] {
  let state = seed;
  const random = (): number => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const edges = bounds.flatMap((b) => [b, b - 1e-12, b + 1e-12]);
  return [...edges, -1, 0, 10, 1e9, ...Array.from({ length: 500 }, () => random() * 7 - 0.5)];
}

/** A rendered histogram without its sum line, and the sum. */
function split(rendered: string): [string, number] {
  const lines = rendered.split("\n");
  const sumLine = lines.find((l) => l.startsWith("h_sum"))!;
  return [lines.filter((l) => l !== sumLine).join("\n"), Number(sumLine.split(" ")[1])];
}

describe("Histogram", () => {
  it("observeAll counts exactly what observing each value in turn counts", () => {
    for (const seed of [1, 2, 3]) {
      const one = new Histogram("h", "help", bounds);
      const all = new Histogram("h", "help", bounds);
      const labels = { view: "v" };
      const list = values(seed);
      for (const v of list) one.observe(v, labels);
      // In two calls, the second empty and the third a typed array: counts add up across calls.
      const handle = all.bind(labels);
      handle.observeAll(list.slice(0, 100));
      handle.observeAll([]);
      handle.observeAll(Float64Array.from(list.slice(100)));
      // Buckets and count exactly; the sum up to rounding (added per call, not per value).
      const [buckets, sum] = split(all.render());
      const [expectedBuckets, expectedSum] = split(one.render());
      assert.equal(buckets, expectedBuckets);
      assert.ok(Math.abs(sum - expectedSum) <= 1e-12 * Math.abs(expectedSum), `sum ${sum} against ${expectedSum}`);
      assert.equal(all.count(labels), list.length);
      // And against the definition: a bucket counts the values at or below its bound.
      for (const b of bounds) assert.match(buckets, new RegExp(`le="${b}"\\} ${list.filter((v) => v <= b).length}\n`));
    }
  });

  it("puts a value equal to a bound in that bound's bucket, and one above every bound only in +Inf", () => {
    const h = new Histogram("h", "help", bounds);
    h.bind({}).observeAll([0.05, 6]);
    const rendered = h.render();
    assert.match(rendered, /h_bucket\{le="0.01"\} 0\n/);
    assert.match(rendered, /h_bucket\{le="0.05"\} 1\n/);
    assert.match(rendered, /h_bucket\{le="5"\} 1\n/);
    assert.match(rendered, /h_bucket\{le="\+Inf"\} 2\n/);
    assert.match(rendered, /h_sum 6.05\n/);
  });
});
