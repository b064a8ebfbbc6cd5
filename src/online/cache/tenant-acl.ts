import { Cluster, Redis } from "ioredis";
import type { CacheConfig } from "../../config/project-config.js";
import { InvalidRequestError } from "../../errors.js";

/**
 * What the cache sends Redis: reads (MGET, GET), the populate script (EVALSHA, EVAL when not yet
 * loaded), refresh locks (SET NX), deletes, and what ioredis needs to connect and find a
 * cluster's slots. Nothing that lists, scans or flushes keys.
 */
export const CACHE_COMMANDS = ["get", "mget", "set", "del", "evalsha", "eval", "script|load", "ping", "info", "hello", "select", "client|setname", "readonly", "cluster|info", "cluster|slots", "cluster|shards", "cluster|nodes"];

/**
 * The `ACL SETUSER` arguments that confine a tenant's cache user to its own keys
 * (`<keyPrefix>:<project>:*`, see CacheKeys) and the commands above: even a bug in a server
 * cannot read or write another tenant's keys through that connection.
 *
 * @example
 * tenantAclArgs("strata", "rides", "rides_srv", "pw");
 * // ["SETUSER", "rides_srv", "reset", "on", ">pw", "~strata:rides:*", "resetchannels", "-@all", "+get", ...]
 */
export function tenantAclArgs(keyPrefix: string, project: string, username: string, password: string): string[] {
  return ["SETUSER", username, "reset", "on", `>${password}`, `~${keyPrefix}:${project}:*`, "resetchannels", "-@all", ...CACHE_COMMANDS.map((c) => `+${c}`)];
}

/** Creates (or resets) the project's cache user on the Redis server, or on every node of the cluster, as an admin user. */
export async function applyTenantAcl(cache: CacheConfig, project: string, admin: { username?: string; password?: string }): Promise<{ nodes: number; keyPattern: string }> {
  if (cache.type === "memory") throw new InvalidRequestError("online.cache.type is memory: there is no Redis to configure");
  if (cache.username === undefined || cache.password === undefined) throw new InvalidRequestError("set online.cache.username and online.cache.password: the user this project's servers connect as");
  const args = tenantAclArgs(cache.keyPrefix, project, cache.username, cache.password);
  const options = { username: admin.username, password: admin.password, lazyConnect: true, maxRetriesPerRequest: 1 };
  if (cache.type === "redis") {
    const client = new Redis(cache.url ?? "redis://127.0.0.1:6379", options);
    try {
      await client.call("ACL", ...args);
    } finally {
      client.disconnect();
    }
    return { nodes: 1, keyPattern: `${cache.keyPrefix}:${project}:*` };
  }
  // ACL rules are per node, not replicated by the cluster: every master and replica gets them.
  const cluster = new Cluster((cache.nodes ?? []).map((n) => ({ host: n.split(":")[0], port: Number(n.split(":")[1]) })), { redisOptions: options, lazyConnect: true });
  try {
    await cluster.connect();
    const nodes = cluster.nodes("all");
    await Promise.all(nodes.map((node) => node.call("ACL", ...args)));
    return { nodes: nodes.length, keyPattern: `${cache.keyPrefix}:${project}:*` };
  } finally {
    cluster.disconnect();
  }
}
