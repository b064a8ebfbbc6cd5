import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, it } from "node:test";
import { withFileLock } from "../../src/util/file-lock.js";
import { tempDir } from "../helpers/temp-dir.js";

/** The lock of the serving log's erasure and of backfills: one holder at a time, and a dead holder's lock is taken over once. */
describe("file lock", () => {
  it("lets one caller at a time in, even when many race to take over a dead owner's lock", async () => {
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    const path = join(await tempDir(), "_erase.lock");
    for (let round = 0; round < 10; round++) {
      await writeFile(path, String(dead));
      let inside = 0;
      let most = 0;
      const order: number[] = [];
      await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          withFileLock(path, async () => {
            most = Math.max(most, ++inside);
            await sleep(2);
            order.push(i);
            inside--;
          }),
        ),
      );
      assert.equal(most, 1, `round ${round}: at most one holder at once`);
      assert.equal(order.length, 8, "every caller had its turn");
    }
  });

  it("releases the lock when the work fails, and the next caller gets it", async () => {
    const path = join(await tempDir(), "_erase.lock");
    await assert.rejects(withFileLock(path, () => Promise.reject(new Error("boom"))), /boom/);
    assert.equal(await withFileLock(path, () => Promise.resolve(7)), 7);
  });

  it("takes over at once a lock naming this process's pid: a killed earlier run that had the same pid", async () => {
    const path = join(await tempDir(), "_tiles.lock");
    await writeFile(path, String(process.pid));
    const started = performance.now();
    assert.equal(await withFileLock(path, () => Promise.resolve("mine"), 2000), "mine");
    assert.ok(performance.now() - started < 1000, "no wait for a holder that cannot be running");
  });
});
