import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { DuckDb } from "../../src/offline/duckdb.js";

test("DuckDB's private spill folder exists only while a query spills, and is gone after close", async () => {
  const duck = await DuckDb.open({ memoryLimit: "64MB", threads: 1 });
  const folder = duck.spillDirectory!;
  try {
    await duck.run("SELECT sum(range) FROM range(100000)");
    assert.equal(existsSync(folder), false, "a query that fits in memory must not create the folder (a killed process would leave it behind)");
    // Sorting ~150 MB of text under a 64 MB limit spills.
    await duck.run("CREATE TABLE sorted AS SELECT range AS a, md5(range::VARCHAR) || md5((range + 1)::VARCHAR) AS b FROM range(2000000) ORDER BY b");
    assert.equal(existsSync(folder), true, "the large sort was expected to spill");
  } finally {
    duck.close();
  }
  assert.equal(existsSync(folder), false);
});
