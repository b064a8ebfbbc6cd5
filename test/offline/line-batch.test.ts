import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { LineBatch } from "../../src/offline/line-batch.js";
import { writeLines } from "../../src/offline/json-lines.js";
import { tempDir } from "../helpers/temp-dir.js";

describe("LineBatch", () => {
  it("holds the lines' UTF-8 bytes in order across chunks, whatever their lengths", async () => {
    const lines: string[] = [];
    for (let i = 0; i < 300_000; i++) lines.push(i % 1000 === 0 ? `{"note":"${"ü€𝄞".repeat(i % 7000)}"}` : `{"i":${i}}`);
    lines.push("x".repeat(9 * 1024 * 1024)); // longer than a chunk
    lines.push("");
    const batch = new LineBatch();
    for (const line of lines) batch.push(line);
    assert.equal(batch.length, lines.length);
    assert.ok(batch.chunks().length > 1, "spans several chunks");
    assert.equal(Buffer.concat(batch.chunks()).toString("utf8"), `${lines.join("\n")}\n`);
    const path = join(await tempDir(), "lines.json");
    await writeLines(path, batch);
    assert.equal(await readFile(path, "utf8"), `${lines.join("\n")}\n`);
  });

  it("writes numbers as JSON.stringify does, and lines piece by piece across chunks", () => {
    const numbers = [0, -0, 7, -7, 9, 10, 99, 100, 99_999_999, 100_000_000, 100_000_001, 1_000_000_007, 10_000_000_000, 1_704_067_200_123_456, -1_704_067_200_123_456, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 53, 1e21, 0.1, -12.5, 1.5e-7, Math.fround(0.1), Number.MIN_VALUE];
    // Each digit count's edges, in both halves of a long integer, and random integers of every length.
    for (let k = 1; k <= 16; k++) numbers.push(10 ** k - 1, 10 ** k, 10 ** k + 1, 10 ** k * 3 + 5);
    for (let i = 0; i < 200; i++) numbers.push(Math.floor(Math.random() * 10 ** (1 + (i % 16))));
    const batch = new LineBatch();
    const expected: string[] = [];
    for (let i = 0; i < 40_000; i++) {
      const n = numbers[i % numbers.length]! * (i % 3 === 0 ? 1 : -1);
      batch.text('{"n":');
      batch.number(n);
      batch.text(',"s":"ü"}');
      batch.endLine();
      expected.push(`{"n":${JSON.stringify(n)},"s":"ü"}`);
    }
    assert.equal(batch.length, expected.length);
    assert.ok(batch.chunks().length > 1, "spans several chunks");
    assert.equal(Buffer.concat(batch.chunks()).toString("utf8"), `${expected.join("\n")}\n`);
  });

  it("writes decimals of every fraction length and magnitude, and any other double, as JSON.stringify does", () => {
    const numbers = [0.1, 0.0001, 0.00015, 0.00001, 1e-7, 99_999_999_999.9999, 1e11 + 0.5, 1e11 - 0.5, 123.45, 0.3, 0.1 + 0.2, 1 / 3, 2.675, 1.005, 4.35, Math.fround(0.1), 5e-324, Infinity, NaN];
    // Short decimals (1 to 6 fraction digits, some ending in zeros) at every magnitude up to past the bound, and random doubles.
    for (let i = 0; i < 50_000; i++) {
      const digits = 1 + (i % 6);
      numbers.push(Math.floor(Math.random() * 10 ** (1 + (i % 16))) / 10 ** digits, Math.random() * 10 ** ((i % 24) - 8));
    }
    const batch = new LineBatch();
    const expected: string[] = [];
    for (const [i, n] of numbers.entries()) {
      const value = i % 2 === 0 ? n : -n;
      batch.number(value);
      batch.endLine();
      expected.push(Number.isFinite(value) ? JSON.stringify(value) : String(value));
    }
    assert.deepEqual(Buffer.concat(batch.chunks()).toString("utf8").split("\n").slice(0, -1), expected);
  });

  it("is empty until a line is pushed", () => {
    const batch = new LineBatch();
    assert.equal(batch.length, 0);
    assert.deepEqual(batch.chunks(), []);
  });
});
