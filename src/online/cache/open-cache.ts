import type { CacheConfig } from "../../config/project-config.js";
import type { FeatureCache } from "./feature-cache.js";
import { MemoryCache } from "./memory-cache.js";
import { NoCache } from "./no-cache.js";
import { RedisCache } from "./redis-cache.js";

/**
 * Opens the configured cache. A batch process gets no in-process cache (only a serving
 * process could read it). A Redis that cannot be reached yet does not stop start-up: the
 * client keeps reconnecting, and until it is back reads are answered degraded.
 */
export async function openCache(config: CacheConfig, role: "serving" | "batch" = "serving"): Promise<FeatureCache> {
  if (config.type === "memory") return role === "serving" ? new MemoryCache(config.maxEntries) : new NoCache();
  const cache = new RedisCache({
    ...(config.type === "redis" ? { url: config.url } : { clusterNodes: config.nodes }),
    connectTimeoutMs: config.connectTimeoutMs,
    reconnectMaxDelayMs: config.reconnectMaxDelayMs,
    username: config.username,
    password: config.password,
  });
  await cache.ready(config.connectTimeoutMs).catch(() => undefined);
  return cache;
}
