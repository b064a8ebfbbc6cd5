import { randomBytes } from "node:crypto";
import { Cluster, Redis, type ClusterNode } from "ioredis";
import type { FeatureCache, PopulateEntry } from "./feature-cache.js";
import { POPULATE_SCRIPT } from "./redis-scripts.js";
import { CoalescedReads } from "./coalesced-reads.js";

export interface RedisCacheOptions {
  /** A single server: redis://host:port; or the seed nodes of a cluster. */
  readonly url?: string;
  readonly clusterNodes?: readonly string[];
  readonly connectTimeoutMs: number;
  readonly reconnectMaxDelayMs: number;
  readonly username?: string;
  readonly password?: string;
}

type WithPopulate = { strataPopulate(key: string, writeTs: string, payload: string, ttlMs: string): Promise<number> };

/**
 * The cache on Redis or Redis Cluster. Commands fail at once while disconnected (no offline
 * queue): the reader's timeout and circuit breaker decide what a request does then.
 *
 * Single server: one MGET for the keys of every request of an event-loop turn (CoalescedReads).
 *
 * Cluster: reads scatter-gather, one GET per key, all issued at once: the client routes each
 * to the shard that owns its slot, commands for one shard leave in one socket write (one round
 * trip per shard, shards in parallel), and each command follows MOVED/ASK while slots move.
 * Not MGET: a cluster refuses multi-key commands across slots, and answers TRYAGAIN to them
 * while a slot migrates; not auto-pipelining, which does not follow redirections per command.
 */
export class RedisCache implements FeatureCache {
  readonly layer = "redis";
  readonly sharedAcrossProcesses = true;
  private readonly client: (Redis | Cluster) & WithPopulate;
  private readonly clustered: boolean;
  private readonly reads: CoalescedReads<string | null>;

  constructor(options: RedisCacheOptions) {
    const common = { enableOfflineQueue: false, maxRetriesPerRequest: 1 } as const;
    // ioredis backs off up to 2 s by default; a shorter cap brings a returned Redis back into use sooner.
    const retryStrategy = (attempt: number): number => Math.min(attempt * 50, options.reconnectMaxDelayMs);
    const auth = { username: options.username, password: options.password, connectTimeout: options.connectTimeoutMs, retryStrategy };
    if (options.clusterNodes !== undefined) {
      const nodes: ClusterNode[] = options.clusterNodes.map((n) => ({ host: n.split(":")[0], port: Number(n.split(":")[1]) }));
      // No auto-pipelining in a cluster: it mixes slots per pipeline and does not follow MOVED/ASK per command.
      this.client = new Cluster(nodes, { ...common, redisOptions: auth, slotsRefreshTimeout: options.connectTimeoutMs }) as Cluster & WithPopulate;
      this.clustered = true;
    } else {
      this.client = new Redis(options.url ?? "redis://127.0.0.1:6379", { ...common, ...auth, enableAutoPipelining: false }) as Redis & WithPopulate;
      this.clustered = false;
    }
    this.reads = new CoalescedReads((keys) => this.client.mget(keys));
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
    if (!this.clustered) return this.reads.get(keys);
    // All GETs are issued in one tick: those bound for the same shard leave in one socket write.
    return Promise.all(keys.map((key) => this.client.get(key)));
  }

  async populate(entries: readonly PopulateEntry[]): Promise<number> {
    const args = (e: PopulateEntry): [string, string, string, string] => [e.key, String(e.writeTs), e.payload, String(Math.max(1, Math.round(e.ttlMs)))];
    if (this.clustered) {
      const results = await Promise.all(entries.map((e) => this.client.strataPopulate(...args(e))));
      return results.reduce((n, stored) => n + Number(stored), 0);
    }
    // One socket write for the batch; a failed script fails the batch (the populate queue retries it).
    const pipeline = this.client.pipeline() as ReturnType<Redis["pipeline"]> & { strataPopulate(...a: string[]): unknown };
    for (const e of entries) pipeline.strataPopulate(...args(e));
    let stored = 0;
    for (const [error, result] of (await pipeline.exec()) ?? []) {
      if (error !== null) throw error;
      stored += Number(result);
    }
    return stored;
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
