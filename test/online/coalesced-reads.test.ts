import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CoalescedReads } from "../../src/online/cache/coalesced-reads.js";

/** A store of key → value that records each batch it is asked for. */
function recordingStore(fail?: Error): { batches: string[][]; reads: CoalescedReads<string | null> } {
  const batches: string[][] = [];
  const reads = new CoalescedReads<string | null>((keys) => {
    batches.push(keys);
    return fail !== undefined ? Promise.reject(fail) : Promise.resolve(keys.map((k) => (k.startsWith("absent") ? null : `v:${k}`)));
  });
  return { batches, reads };
}

describe("CoalescedReads", () => {
  it("sends the reads of one event-loop turn as one batch and gives each caller its own slice", async () => {
    const { batches, reads } = recordingStore();
    const got = await Promise.all([reads.get(["a", "b"]), reads.get(["absent-1"]), reads.get(["a"]), reads.get(["c", "absent-2", "c"])]);
    assert.deepEqual(got, [["v:a", "v:b"], [null], ["v:a"], ["v:c", null, "v:c"]]);
    assert.deepEqual(batches, [["a", "b", "absent-1", "a", "c", "absent-2", "c"]]);
  });

  it("starts a new batch in a later turn, also while the earlier one is unanswered", async () => {
    const { batches, reads } = recordingStore();
    const first = reads.get(["a"]);
    await new Promise(setImmediate);
    const second = reads.get(["b"]);
    assert.deepEqual(await Promise.all([first, second]), [["v:a"], ["v:b"]]);
    assert.deepEqual(batches, [["a"], ["b"]]);
  });

  it("fails every caller of a failed batch with its error, thrown or rejected", async () => {
    const error = new Error("connection lost");
    const failing = recordingStore(error);
    const results = await Promise.allSettled([failing.reads.get(["a"]), failing.reads.get(["b"])]);
    assert.deepEqual(results.map((r) => r.status === "rejected" && r.reason === error), [true, true]);
    const thrown = new CoalescedReads<string>(() => {
      throw error;
    });
    await assert.rejects(thrown.get(["x"]), error);
  });
});
