import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { pythonFloat } from "../../src/server/feast-format.js";
import { runProcess } from "../helpers/cli.js";

/**
 * `pythonFloat` renders floats as Python's `repr(float)` does (what Feast's feature server
 * writes, and what tells Feast's client a value is a float): checked against a real python3
 * on thousands of doubles, sent as exact IEEE-754 bit patterns and decoded with struct.
 */

/** The 64-bit pattern of a double, big-endian hex (Python: `struct.unpack('>d', bytes.fromhex(h))`). */
function bitsHex(x: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return Buffer.from(view.buffer).toString("hex");
}

function fromBits(bits: bigint): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, bits);
  return view.getFloat64(0);
}

/** The neighbouring doubles (one ulp either way) of a finite non-zero double. */
function neighbours(x: number): number[] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  return [fromBits(bits - 1n), fromBits(bits + 1n)].filter((y) => Number.isFinite(y) && Math.sign(y) === Math.sign(x));
}

const PYTHON_REPR = "import json, struct, sys\nprint(json.dumps([repr(struct.unpack('>d', bytes.fromhex(h))[0]) for h in json.load(sys.stdin)]))";

/** Python's repr of each double, from one python3 process. */
async function pythonReprs(values: readonly number[]): Promise<string[]> {
  const result = await runProcess("python3", ["-c", PYTHON_REPR], { input: JSON.stringify(values.map(bitsHex)), timeoutMs: 60_000 });
  if (result.code !== 0) throw new Error(`python3 failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as string[];
}

/** Powers of ten around the repr's notation switches (1e-4 → 1e-05, 1e15 → 1e+16), signed, with their neighbours. */
function boundaryValues(): number[] {
  const out: number[] = [];
  for (let k = -8; k <= 20; k++) {
    const p = Number(`1e${k}`);
    for (const x of [p, 9.999999999999998 * p, 1.5 * p, Math.fround(p)]) out.push(x, -x, ...neighbours(x), ...neighbours(-x));
  }
  for (let k = -324; k <= 308; k += 7) out.push(Number(`1e${k}`), Number(`-1.2345678901234567e${k}`));
  return out;
}

/** Special and extreme doubles: zeros, subnormals, the largest finite, float32 limits, integers around 2^53. */
const SPECIAL = [
  0, -0, 5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON,
  1, -1, 0.1, 0.5, 1 / 3, 2 / 3, 100, 1e15, 1e16, 123456789012345680, 2 ** 53, 2 ** 53 - 1, 2 ** 63, 2 ** 64, 2 ** 1023,
  Math.fround(0.1), Math.fround(3.4028234663852886e38), 1.401298464324817e-45, 1.1754943508222875e-38, 0.0001, 0.00009999999999999999, 9999999999999998, 1e22, 1e23,
];

const doubles = fc.oneof(
  { weight: 4, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  // Any 64-bit pattern that is a finite double (subnormals included, uniformly over exponents).
  { weight: 3, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(fromBits).filter(Number.isFinite) },
  { weight: 2, arbitrary: fc.integer({ min: -(2 ** 31), max: 2 ** 31 }) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(Number) },
  // Float32 values (what Float32 features hold), widened to doubles.
  { weight: 2, arbitrary: fc.float({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: -999_999, max: 999_999 }), fc.integer({ min: -330, max: 310 })).map(([m, e]) => Number(`${m}e${e}`)).filter(Number.isFinite) },
);

describe("pythonFloat renders doubles as Python's repr(float)", () => {
  it("matches python3 exactly on 2,000 random doubles and the notation boundaries", async () => {
    const seed = Number(process.env.FLOAT_REPR_SEED ?? Date.now() % 2 ** 31);
    const values = [...SPECIAL, ...boundaryValues(), ...fc.sample(doubles, { numRuns: 2_000, seed })];
    assert.ok(values.every(Number.isFinite));
    const reprs = await pythonReprs(values);
    assert.equal(reprs.length, values.length);
    const mismatches = values.map((x, i) => ({ bits: bitsHex(x), ours: pythonFloat(x), python: reprs[i] })).filter((m) => m.ours !== m.python);
    assert.deepEqual(mismatches.slice(0, 10), [], `${mismatches.length} of ${values.length} differ (FLOAT_REPR_SEED=${seed})`);
  });

  it("renders text that parses back to the very same double", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => Object.is(JSON.parse(pythonFloat(x)), x)),
      { numRuns: 5_000 },
    );
  });

  it("writes non-finite values as Feast's server does: the JSON strings NaN, Infinity, -Infinity", () => {
    assert.equal(pythonFloat(Number.NaN), '"NaN"');
    assert.equal(pythonFloat(Number.POSITIVE_INFINITY), '"Infinity"');
    assert.equal(pythonFloat(Number.NEGATIVE_INFINITY), '"-Infinity"');
  });
});
