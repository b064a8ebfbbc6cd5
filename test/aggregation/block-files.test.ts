import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BLOCK_FILE, holdsBlocks, isTemporary, withBlockFiles, writeBlockFile } from "../../src/aggregation/block-files.js";
import { DuckDb } from "../../src/offline/duckdb.js";

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "0"]);
  assert.equal(child.status, 0);
  return child.pid;
}

describe("day-block files (DuckDB database files, real DuckDB)", () => {
  let duck: DuckDb;
  let dir: string;
  before(async () => {
    duck = await DuckDb.open();
    dir = await mkdtemp(join(tmpdir(), "strata-blocks-"));
  });
  after(async () => {
    duck.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes a query's rows, replaces them on a rewrite, and reads several files as one relation", async () => {
    const [a, b] = [join(dir, "a"), join(dir, "b")];
    for (const d of [a, b]) await mkdir(d);
    await writeBlockFile(duck, a, "SELECT 1::BIGINT AS k, [10, 20]::BIGINT[] AS __ets");
    await writeBlockFile(duck, a, "SELECT 2::BIGINT AS k, [30]::BIGINT[] AS __ets"); // replaces
    await writeBlockFile(duck, b, "SELECT 3::BIGINT AS k, []::BIGINT[] AS __ets");
    assert.deepEqual((await readdir(a)).sort(), [BLOCK_FILE], "no temporary file or write-ahead log is left");
    const files = [join(a, BLOCK_FILE), join(b, BLOCK_FILE)];
    const rows = await withBlockFiles(duck, files, (blocks) => duck.rows(`SELECT k, len(__ets) AS n FROM ${blocks} ORDER BY k`));
    assert.deepEqual(rows, [
      { k: 2n, n: 1n },
      { k: 3n, n: 0n },
    ]);
    // Detached afterwards: attaching the same files again works, and no files give no relation.
    assert.equal(await withBlockFiles(duck, files, async (blocks) => (await duck.rows(`SELECT count(*) AS n FROM ${blocks}`))[0]?.n), 2n);
    assert.equal(await withBlockFiles(duck, [], (blocks) => Promise.resolve(blocks)), null);
  });

  it("detaches the files when the work fails", async () => {
    const file = join(dir, "a", BLOCK_FILE);
    await assert.rejects(withBlockFiles(duck, [file], () => Promise.reject(new Error("boom"))), /boom/);
    assert.deepEqual(await withBlockFiles(duck, [file], (blocks) => duck.rows(`SELECT k FROM ${blocks}`)), [{ k: 2n }]);
  });

  it("tells temporaries (a backfill removes them all, holding its lock), and reads only a killed writer's as holding blocks", async () => {
    const c = join(dir, "c");
    await mkdir(c);
    const dead = `.blocks-${deadPid()}-1.duckdb`;
    const live = `.blocks-${process.pid}-1.duckdb`;
    for (const name of [dead, `${dead}.wal`, live, `.blocks-${process.pid}-x7`]) assert.equal(isTemporary(name), true, name);
    assert.equal(isTemporary(BLOCK_FILE), false);
    assert.equal(holdsBlocks(dead), true, "a leftover may hold blocks: an erasure check reads it");
    assert.equal(holdsBlocks(live), false, "a live writer's file is still being written");
    assert.equal(holdsBlocks(`${dead}.wal`), false);
    assert.equal(holdsBlocks(BLOCK_FILE), true);
    await writeFile(join(c, live), "partial");
    await writeBlockFile(duck, c, "SELECT 1 AS k");
    assert.deepEqual((await readdir(c)).sort(), [live, BLOCK_FILE].sort(), "the write left no temporary of its own");
  });
});
