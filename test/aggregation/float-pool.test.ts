import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FloatPool } from "../../src/aggregation/float-pool.js";

describe("FloatPool", () => {
  it("hands out arrays of the smallest size class that holds the request: 16, 24, 32, 48, ...", () => {
    const pool = new FloatPool();
    const expected = (size: number): number => {
      let c = 16;
      while (c < size) c = Number.isInteger(Math.log2(c)) ? c * 1.5 : (c / 1.5) * 2;
      return c;
    };
    for (const size of [1, 15, 16, 17, 24, 25, 32, 33, 48, 49, 1000, 65_535, 65_536]) assert.equal(pool.take(size).length, expected(size), `size ${size}`);
    // Past the largest class: an array of its own, exactly as long, never pooled.
    const large = pool.take(65_537);
    assert.equal(large.length, 65_537);
    pool.release(large);
    assert.notEqual(pool.take(65_537), large);
  });

  it("never hands out the same floats twice while both are held, and reuses released arrays of their class only", () => {
    const pool = new FloatPool();
    const held = Array.from({ length: 3000 }, (_, i) => pool.take(1 + ((i * 37) % 3000)));
    held.forEach((floats, i) => floats.fill(i));
    held.forEach((floats, i) => assert.ok(floats.every((x) => x === i), `array ${i} was overwritten by another`));
    assert.ok(pool.bytes.slabs > 16 * 2 ** 20, "the requests span several slabs");
    const released = held[5]!; // 186 floats: class 192
    pool.release(released);
    assert.notEqual(pool.take(100), released, "another class does not take it");
    assert.equal(pool.take(190), released);
    assert.notEqual(pool.take(190), released, "handed out once");
    // An array the pool did not carve (a decoded state's) is left alone, whatever its length.
    const foreign = new Float64Array(32);
    pool.release(foreign);
    assert.notEqual(pool.take(32), foreign);
  });

  it("counts its slabs' bytes and those of the arrays waiting for reuse", () => {
    const pool = new FloatPool();
    const a = pool.take(100); // class 128
    pool.take(20); // class 24
    assert.deepEqual(pool.bytes, { slabs: 16 * 2 ** 20, waiting: 0 });
    pool.release(a);
    assert.deepEqual(pool.bytes, { slabs: 16 * 2 ** 20, waiting: 128 * 8 });
  });
});
