import { RedisCache } from "../../src/online/cache/redis-cache.js";
import { redisCommand, useRedis } from "../helpers/redis-server.js";
import { cacheConformance } from "./cache-conformance.js";

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
