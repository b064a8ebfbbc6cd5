import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Cluster, Redis } from "ioredis";
import { collectDefinitions, compileDefinitions } from "../../src/index.js";
import { FeatureStore } from "../../src/feature-store.js";
import { CacheKeys } from "../../src/online/cache/cache-keys.js";
import type { OnlineService } from "../../src/online/online-service.js";
import { runCli } from "../helpers/cli.js";
import { onlineDefinitions } from "../helpers/online-project.js";
import { makeProject } from "../helpers/project.js";
import { startRedisCluster, type RedisCluster } from "../helpers/redis-cluster.js";
import { startRedis, type RedisServer } from "../helpers/redis-server.js";

const ADMIN_PASSWORD = "admin-pw";
const now = new Date().toISOString();

interface Tenant {
  readonly project: string;
  readonly store: FeatureStore;
  readonly online: OnlineService;
}

/** A project whose cache user is created by `strata cache acl` (as the admin) before its online tier connects. */
async function tenant(project: string, cache: Record<string, unknown>): Promise<Tenant> {
  const dir = await makeProject({ config: { project, online: { type: "sqlite", cache: { ...cache, username: `${project}_srv`, password: `${project}-pw`, readTimeoutMs: 200 } } } });
  const acl = await runCli(["-C", dir, "cache", "acl", "--json"], { env: { STRATA_REDIS_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  assert.equal(acl.code, 0, acl.stderr);
  const store = await FeatureStore.open(dir, { actor: "test" });
  await store.apply(compileDefinitions(collectDefinitions(onlineDefinitions())));
  const online = await store.online();
  await online.writer.write(await online.target("driver_profile"), [{ driver_id: 7, ts: now, city: project, rating: 1 }], "ts");
  await online.populate.drain();
  return { project, store, online };
}

const keyOf = (t: Tenant): string => new CacheKeys("strata", t.project).entry({ view: "driver_profile", version: 1 }, "7");

/**
 * Tenant isolation below the server: each project's cache keys live under its own prefix and its
 * servers connect as a Redis ACL user confined to that prefix, so Redis itself refuses a read
 * of another tenant's keys, whatever the server asks.
 */
for (const topology of ["redis", "redis-cluster"] as const) {
  describe(`tenant isolation by Redis ACL users (${topology})`, () => {
    let redis: RedisServer | undefined;
    let cluster: RedisCluster | undefined;
    let alpha: Tenant;
    let beta: Tenant;
    let admin: Redis | Cluster;

    before(async () => {
      // A server whose default user needs a password: nothing is open by accident.
      if (topology === "redis") {
        redis = await startRedis({ config: [`user default on >${ADMIN_PASSWORD} ~* &* +@all`] });
        admin = new Redis(redis.url, { password: ADMIN_PASSWORD });
      } else {
        cluster = await startRedisCluster({ masters: 3 });
        for (const node of cluster.nodes) {
          const c = new Redis(node.port, node.host);
          await c.call("ACL", "SETUSER", "default", "on", `>${ADMIN_PASSWORD}`);
          c.disconnect();
        }
        admin = new Cluster(cluster.nodes.map((n) => ({ host: n.host, port: n.port })), { redisOptions: { password: ADMIN_PASSWORD } });
      }
      const cache = topology === "redis" ? { type: "redis", url: redis!.url } : { type: "redis-cluster", nodes: cluster!.nodes.map((n) => `${n.host}:${n.port}`) };
      alpha = await tenant("alpha", cache);
      beta = await tenant("beta", cache);
    });
    after(async () => {
      for (const t of [alpha, beta]) await t?.store.close();
      admin?.disconnect();
      await redis?.stop();
      await cluster?.stop();
    });

    it("serves each tenant its own values through the cache", async () => {
      for (const t of [alpha, beta]) {
        const [cached] = await t.online.cache.getMany([keyOf(t)]);
        assert.ok(cached !== null && cached!.includes(t.project), `${t.project}'s entry is in the cache`);
        const { result } = await t.online.read({ features: ["driver_profile:city"] }, { driver_id: [7] });
        assert.equal(result.degraded, false);
      }
    });

    it("has Redis refuse a tenant's own connection any key of another tenant (NOPERM), and commands beyond the cache's", async () => {
      assert.ok((await admin.get(keyOf(beta))) !== null, "beta's key exists (the admin sees it)");
      await assert.rejects(alpha.online.cache.getMany([keyOf(beta)]), /NOPERM/);
      await assert.rejects(alpha.online.cache.populate([{ key: keyOf(beta), writeTs: Number.MAX_SAFE_INTEGER, payload: "stolen", ttlMs: 60_000 }]), /NOPERM/);
      await assert.rejects(beta.online.cache.delete([keyOf(alpha)]), /NOPERM/);
      assert.ok((await admin.get(keyOf(alpha)))!.includes("alpha"), "alpha's entry is untouched");
      const direct = topology === "redis" ? new Redis(redis!.url, { username: "alpha_srv", password: "alpha-pw" }) : new Redis(cluster!.nodes[0]!.port, cluster!.nodes[0]!.host, { username: "alpha_srv", password: "alpha-pw" });
      try {
        await assert.rejects(direct.call("KEYS", "*"), /NOPERM/);
        await assert.rejects(direct.call("FLUSHALL"), /NOPERM/);
        await assert.rejects(direct.call("CONFIG", "GET", "*"), /NOPERM/);
      } finally {
        direct.disconnect();
      }
    });

    it("refuses a wrong password for a tenant user", async () => {
      const plain = new Redis(topology === "redis" ? redis!.port : cluster!.nodes[0]!.port, "127.0.0.1", { enableReadyCheck: false });
      plain.on("error", () => undefined);
      try {
        await assert.rejects(plain.call("AUTH", "alpha_srv", "beta-pw"), /WRONGPASS/);
        assert.equal(await plain.call("AUTH", "alpha_srv", "alpha-pw"), "OK");
      } finally {
        plain.disconnect();
      }
    });
  });
}
