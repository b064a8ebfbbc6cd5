import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RedisCache } from "../../src/online/cache/redis-cache.js";
import { redisCommand, useRedis } from "../helpers/redis-server.js";
import { cacheConformance, populateEntry, T0, uniqueKeys, VIEW } from "./cache-conformance.js";

/** The Redis cache on a throwaway single redis-server (one for this file; each test in its own key namespace), against the cache contract. */
let redis: ReturnType<typeof useRedis> | undefined;
cacheConformance({
  name: "redis",
  useInThisSuite() {
    redis = useRedis();
  },
  async open() {
    const cache = new RedisCache({ url: redis!.url(), connectTimeoutMs: 2000, reconnectMaxDelayMs: 500 });
    await cache.ready(2000);
    return cache;
  },
  async pttl(key) {
    return Number(await redisCommand(redis!.server().port, "PTTL", key));
  },
});

describe("RedisCache on a server that lost its scripts", () => {
  const server = useRedis();
  it("loads the populate script again when a batch finds it gone (SCRIPT FLUSH, a restarted Redis)", async () => {
    const cache = new RedisCache({ url: server.url(), connectTimeoutMs: 2000, reconnectMaxDelayMs: 500 });
    try {
      await cache.ready(2000);
      const keys = uniqueKeys();
      const first = [populateEntry(keys.entry(VIEW, "1"), "1", T0)];
      assert.equal(await cache.populate(first), 1);
      assert.equal(await redisCommand(server.server().port, "SCRIPT", "FLUSH"), "OK");
      const second = ["2", "3"].map((e, i) => populateEntry(keys.entry(VIEW, e), e, T0 + i));
      assert.equal(await cache.populate(second), 2);
      assert.deepEqual(await cache.getMany([...first, ...second].map((e) => e.key)), [...first, ...second].map((e) => e.payload));
    } finally {
      await cache.close();
    }
  });
});
