import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { MemoryCache } from "../../src/online/cache/memory-cache.js";
import { cacheConformance, populateEntry, uniqueKeys } from "./cache-conformance.js";

/** The embedded in-process cache against the cache contract: a fresh cache per test. */
let cache: MemoryCache | undefined;
cacheConformance({
  name: "memory",
  useInThisSuite() {
    beforeEach(() => {
      cache = new MemoryCache(100_000);
    });
  },
  open() {
    if (cache === undefined) throw new Error("memory backend: no cache yet");
    return Promise.resolve(cache);
  },
});

describe("MemoryCache: its bound", () => {
  it("keeps at most maxEntries, dropping the least recently stored first", async () => {
    const keys = uniqueKeys();
    const key = (e: string): string => keys.entry({ view: "v", version: 1 }, e);
    const bounded = new MemoryCache(3);
    const T = 1_700_000_000_000_000;
    const entries = ["1", "2", "3"].map((e) => populateEntry(key(e), e, T));
    assert.equal(await bounded.populate(entries), 3);
    const renewed = populateEntry(key("1"), "1", T + 1);
    assert.equal(await bounded.populate([renewed]), 1, "storing 1 again makes it the most recent");
    const fourth = populateEntry(key("4"), "4", T);
    assert.equal(await bounded.populate([fourth]), 1);
    assert.deepEqual(await bounded.getMany(["1", "2", "3", "4"].map(key)), [renewed.payload, null, entries[2]!.payload, fourth.payload], "2, the least recently stored, was dropped");
    await bounded.close();
  });
});
