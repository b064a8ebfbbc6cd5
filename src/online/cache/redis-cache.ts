import { randomBytes } from "node:crypto";
import calculateSlot from "cluster-key-slot";
import { Cluster, Redis, type ClusterNode } from "ioredis";
import type { FeatureCache, PopulateEntry } from "./feature-cache.js";
import { POPULATE_SCRIPT } from "./redis-scripts.js";

export interface RedisCacheOptions {
  /** A single server: redis://host:port; or the seed nodes of a cluster. */
  readonly url?: string;
  readonly clusterNodes?: readonly string[];
  readonly connectTimeoutMs: number;
  readonly username?: string;
  readonly password?: string;
}

type WithPopulate = { strataPopulate(key: string, writeTs: string, payload: string, ttlMs: string): Promise<number> };

/**
 * The cache on Redis or Redis Cluster. Commands fail at once while disconnected (no offline
 * queue): the reader's timeout and circuit breaker decide what a request does then.
 *
 * Reads scatter-gather: keys are grouped by hash slot, one MGET per slot (a cluster refuses
 * multi-key commands across slots), and auto-pipelining sends every MGET bound for the same
 * shard in one round trip, all shards in parallel. MOVED/ASK redirections during resharding
 * are followed per command by the client.
 */
export class RedisCache implements FeatureCache {
  readonly layer = "redis";
  private readonly client: (Redis | Cluster) & WithPopulate;
  private readonly clustered: boolean;

  constructor(options: RedisCacheOptions) {
    const common = { enableOfflineQueue: false, enableAutoPipelining: true, maxRetriesPerRequest: 1 } as const;
    const auth = { username: options.username, password: options.password, connectTimeout: options.connectTimeoutMs };
    if (options.clusterNodes !== undefined) {
      const nodes: ClusterNode[] = options.clusterNodes.map((n) => ({ host: n.split(":")[0], port: Number(n.split(":")[1]) }));
      this.client = new Cluster(nodes, { ...common, redisOptions: auth, slotsRefreshTimeout: options.connectTimeoutMs }) as Cluster & WithPopulate;
      this.clustered = true;
    } else {
      this.client = new Redis(options.url ?? "redis://127.0.0.1:6379", { ...common, ...auth }) as Redis & WithPopulate;
      this.clustered = false;
    }
    this.client.on("error", () => undefined); // surfaced per command; reconnection is automatic
    this.client.defineCommand("strataPopulate", { numberOfKeys: 1, lua: POPULATE_SCRIPT });
  }

  /** Resolves when connected (or rejects after `timeoutMs`); reads work only once this has happened. */
  async ready(timeoutMs: number): Promise<void> {
    if (this.client.status === "ready") return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Redis not ready after ${timeoutMs} ms`)), timeoutMs);
      this.client.once("ready", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return [];
    if (!this.clustered) return this.client.mget([...keys]);
    const bySlot = new Map<number, number[]>();
    keys.forEach((key, i) => {
      const slot = calculateSlot(key);
      const group = bySlot.get(slot);
      if (group === undefined) bySlot.set(slot, [i]);
      else group.push(i);
    });
    const out: (string | null)[] = new Array<string | null>(keys.length).fill(null);
    await Promise.all(
      [...bySlot.values()].map(async (indexes) => {
        const values = await this.client.mget(indexes.map((i) => keys[i]!));
        indexes.forEach((i, j) => (out[i] = values[j] ?? null));
      }),
    );
    return out;
  }

  async populate(entries: readonly PopulateEntry[]): Promise<number> {
    const results = await Promise.all(entries.map((e) => this.client.strataPopulate(e.key, String(e.writeTs), e.payload, String(Math.max(1, Math.round(e.ttlMs))))));
    return results.reduce((n, stored) => n + Number(stored), 0);
  }

  async delete(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((k) => this.client.del(k)));
  }

  async tryLock(key: string, ttlMs: number): Promise<boolean> {
    return (await this.client.set(key, randomBytes(8).toString("hex"), "PX", ttlMs, "NX")) === "OK";
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
