import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { retryWhileBusy } from "../../src/util/open-sqlite.js";

const busy = (): Error => Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });

/** Opening a SQLite store retries what SQLite refuses as busy without its busy handler (journal_mode = WAL). */
describe("retryWhileBusy", () => {
  it("tries again while SQLite says busy, pausing between tries, and returns the result", () => {
    let calls = 0;
    const started = Date.now();
    const result = retryWhileBusy(() => {
      if (++calls < 4) throw busy();
      return "wal";
    }, 10_000, 20);
    assert.equal(result, "wal");
    assert.equal(calls, 4);
    assert.ok(Date.now() - started >= 55, `three pauses of 20 ms (took ${Date.now() - started} ms)`);
  });

  it("throws any other error at once", () => {
    let calls = 0;
    const other = Object.assign(new Error("disk I/O error"), { code: "SQLITE_IOERR" });
    assert.throws(() => retryWhileBusy(() => {
      calls++;
      throw other;
    }, 10_000), other);
    assert.equal(calls, 1);
  });

  it("gives up after the timeout with the busy error", () => {
    let calls = 0;
    const started = Date.now();
    assert.throws(() => retryWhileBusy(() => {
      calls++;
      throw busy();
    }, 100, 10), { code: "SQLITE_BUSY" });
    const took = Date.now() - started;
    assert.ok(took >= 100 && took < 1000, `gave up after the 100 ms timeout (took ${took} ms)`);
    assert.ok(calls > 2 && calls <= 12, `paused between tries (${calls} tries)`);
  });
});
