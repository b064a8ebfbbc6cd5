import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import calculateSlot from "cluster-key-slot";
import type { CacheKeys } from "../../src/online/cache/cache-keys.js";
import type { PopulateEntry } from "../../src/online/cache/feature-cache.js";
import { RedisCache } from "../../src/online/cache/redis-cache.js";
import { useRedisCluster, type RedisCluster } from "../helpers/redis-cluster.js";
import { RedisError, redisCommand } from "../helpers/redis-server.js";
import { cacheConformance, populateEntry, uniqueKeys } from "./cache-conformance.js";

/**
 * The Redis cache on a throwaway 3-master Redis Cluster (one for this file; each test in its own
 * key namespace): the cache contract, then what only a cluster can get wrong: a read spread
 * over every shard, and slots that move (ASK while half-migrated, MOVED after).
 */
const redis = useRedisCluster({ masters: 3 });
const T0 = 1_700_000_000_000_000;

const VIEW = { view: "driver_stats", version: 3 };

async function openCache(cluster: RedisCluster): Promise<RedisCache> {
  const cache = new RedisCache({ clusterNodes: cluster.nodes.map((n) => `${n.host}:${n.port}`), connectTimeoutMs: 2000, reconnectMaxDelayMs: 500 });
  await cache.ready(2000);
  return cache;
}

/** The slot of `key` as the server computes it (CLUSTER KEYSLOT), not as the client library does. */
async function serverSlot(cluster: RedisCluster, key: string): Promise<number> {
  return Number(await redisCommand(cluster.nodes[0]!.port, "CLUSTER", "KEYSLOT", key));
}

/** `f` over `items`, at most `limit` at a time (the helpers open one connection per command). */
async function mapLimit<T, R>(items: readonly T[], limit: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i]!);
      }
    }),
  );
  return out;
}

/** The owner (node index) of the slot of each key, as the cluster reports it. */
async function ownersOf(cluster: RedisCluster, keys: readonly string[]): Promise<number[]> {
  const slots = await mapLimit(keys, 50, (k) => serverSlot(cluster, k));
  const distinct = [...new Set(slots)];
  const owners = await mapLimit(distinct, 50, (slot) => cluster.slotOwner(slot));
  const ownerOf = new Map(distinct.map((slot, i) => [slot, owners[i]!]));
  return slots.map((slot) => ownerOf.get(slot)!);
}

/** `count` entity keys whose cache keys (in `keys`) all hash to one slot, that of `seed`'s cache key. */
function entitiesInOneSlot(keys: CacheKeys, seed: string, count: number): { slot: number; entities: string[] } {
  const slot = calculateSlot(keys.entry(VIEW, seed));
  const entities = [seed];
  for (let n = 0; entities.length < count; n++) if (calculateSlot(keys.entry(VIEW, `same-slot-${n}`)) === slot) entities.push(`same-slot-${n}`);
  return { slot, entities };
}

/** GET straight from one node, without redirection: the payload, null, or the error reply (e.g. MOVED). */
async function getOn(cluster: RedisCluster, node: number, key: string): Promise<string | null | RedisError> {
  try {
    return (await redisCommand(cluster.nodes[node]!.port, "GET", key)) as string | null;
  } catch (error) {
    if (error instanceof RedisError) return error;
    throw error;
  }
}

cacheConformance({
  name: "redis-cluster",
  useInThisSuite() {
    // the cluster is started once for the file, above
  },
  open: () => openCache(redis.cluster()),
  async pttl(key) {
    const cluster = redis.cluster();
    const owner = await cluster.slotOwner(await serverSlot(cluster, key));
    return Number(await redisCommand(cluster.nodes[owner]!.port, "PTTL", key));
  },
});

describe("Redis Cluster cache: shards and moving slots", () => {
  let caches: RedisCache[] = [];
  let keys: CacheKeys;
  const key = (entity: string): string => keys.entry(VIEW, entity);
  const open = async (): Promise<RedisCache> => {
    const cache = await openCache(redis.cluster());
    caches.push(cache);
    return cache;
  };
  beforeEach(() => {
    keys = uniqueKeys();
  });
  afterEach(async () => {
    await Promise.all(caches.map((c) => c.close()));
    caches = [];
  });

  it("spreads the keys of one getMany over all 3 masters, and reads them all back", async () => {
    const cluster = redis.cluster();
    const cache = await open();
    const entities = Array.from({ length: 2000 }, (_, i) => `driver-${i}`);
    const entries = entities.map((e, i) => populateEntry(key(e), e, T0 + i));
    assert.equal(await cache.populate(entries), entries.length);

    const owners = await ownersOf(cluster, entries.map((e) => e.key));
    const perNode = [0, 1, 2].map((node) => owners.filter((o) => o === node).length);
    assert.ok(perNode.every((n) => n > 400), `keys per master: ${perNode.join(", ")}`);
    // The entries really are on their owners: a direct GET there (no redirection) returns them.
    for (const node of [0, 1, 2]) {
      const sample = entries.filter((_, i) => owners[i] === node).slice(0, 20);
      for (const e of sample) assert.equal(await getOn(cluster, node, e.key), e.payload, `${e.key} on node ${node}`);
    }
    assert.deepEqual(await cache.getMany(entries.map((e) => e.key)), entries.map((e) => e.payload));
  });

  /** Populates 8 keys of one slot (and 200 elsewhere), then half-migrates that slot (4 keys moved): `check` runs in the ASK state. */
  async function withHalfMigratedSlot(check: (cache: RedisCache, entries: PopulateEntry[], inSlot: PopulateEntry[]) => Promise<void>): Promise<void> {
    const cluster = redis.cluster();
    const cache = await open();
    const { slot, entities } = entitiesInOneSlot(keys, "migrating", 8);
    for (const e of entities) assert.equal(await serverSlot(cluster, key(e)), slot, "the server agrees on the slot");
    const others = Array.from({ length: 200 }, (_, i) => `other-${i}`);
    const entries = [...entities, ...others].map((e, i) => populateEntry(key(e), e, T0 + i));
    assert.equal(await cache.populate(entries), entries.length);
    assert.deepEqual(await cache.getMany(entries.map((e) => e.key)), entries.map((e) => e.payload), "before: the client learns the slot map");
    const from = await cluster.slotOwner(slot);
    await cluster.beginSlotMigration(slot, from, (from + 1) % 3, { keys: entities.slice(0, 4).map(key) });
    try {
      const asks = (await Promise.all(entities.map((e) => getOn(cluster, from, key(e))))).filter((r) => r instanceof RedisError && r.message.startsWith("ASK "));
      assert.equal(asks.length, 4, "4 of the slot's 8 keys moved: the source answers ASK for them");
      await check(cache, entries, entries.slice(0, entities.length));
    } finally {
      await cluster.finishSlotMigration(slot);
    }
  }

  it("reads each key of a half-migrated slot (ASK) on its own", async () => {
    await withHalfMigratedSlot(async (cache, _entries, inSlot) => {
      for (const e of inSlot) assert.deepEqual(await cache.getMany([e.key]), [e.payload], `${e.key} alone`);
    });
  });

  it("reads moved and unmoved keys of a half-migrated slot (ASK) in one getMany, with keys of other slots", async () => {
    await withHalfMigratedSlot(async (cache, entries) => {
      const absentInSlot = entitiesInOneSlot(keys, "migrating", 12).entities.slice(8).map(key);
      assert.deepEqual(await cache.getMany([...entries.map((e) => e.key), ...absentInSlot]), [...entries.map((e) => e.payload), null, null, null, null]);
    });
  });

  it("populates into a half-migrated slot (ASK) and keeps compare-and-set there", async () => {
    const cluster = redis.cluster();
    const cache = await open();
    const { slot, entities } = entitiesInOneSlot(keys, "migrating", 8);
    const first = entities.map((e, i) => populateEntry(key(e), e, T0 + 100 + i));
    assert.equal(await cache.populate(first), 8);
    const from = await cluster.slotOwner(slot);
    const to = (from + 2) % 3;
    await cluster.beginSlotMigration(slot, from, to, { keys: entities.slice(0, 4).map(key) });
    try {
      const status = await Promise.all(first.map((e) => getOn(cluster, from, e.key)));
      const movedIdx = status.flatMap((r, i) => (r instanceof RedisError && r.message.startsWith("ASK") ? [i] : []));
      const stayedIdx = status.flatMap((r, i) => (r === first[i]!.payload ? [i] : []));
      assert.equal(movedIdx.length, 4);
      assert.equal(stayedIdx.length, 4);

      const [m0, m1] = movedIdx as [number, number];
      const [s0, s1] = stayedIdx as [number, number];
      const e = (i: number): string => entities[i]!;
      const fresh = entitiesInOneSlot(keys, "migrating", 9).entities[8]!;
      const batch = [
        populateEntry(key(e(m0)), e(m0), T0 + 500, 60_000, '{"moved":"newer"}'), // stored on the target
        populateEntry(key(e(m1)), e(m1), T0 + 1, 60_000, '{"moved":"older"}'), // refused by the target
        populateEntry(key(e(s0)), e(s0), T0 + 500, 60_000, '{"stayed":"newer"}'), // stored on the source
        populateEntry(key(e(s1)), e(s1), T0 + 1, 60_000, '{"stayed":"older"}'), // refused by the source
        populateEntry(key(fresh), fresh, T0 + 1, 60_000, '{"fresh":true}'), // absent everywhere: stored (on the target, by ASK)
      ];
      assert.equal(await cache.populate(batch), 3);
      const expected = new Map(first.map((p) => [p.key, p.payload]));
      for (const i of [0, 2, 4]) expected.set(batch[i]!.key, batch[i]!.payload);
      for (const [k, payload] of expected) assert.deepEqual(await cache.getMany([k]), [payload], k);
      const direct = await getOn(cluster, to, key(e(m0)));
      assert.ok(direct instanceof RedisError && direct.message.startsWith("MOVED"), "without ASKING the target does not serve the slot yet");
    } finally {
      await cluster.finishSlotMigration(slot);
    }
  });

  it("follows MOVED after a slot has moved: same values, and populates (compare-and-set included) reach the new owner", async () => {
    const cluster = redis.cluster();
    const cache = await open();
    const { slot, entities } = entitiesInOneSlot(keys, "moving", 6);
    const others = Array.from({ length: 100 }, (_, i) => `other-${i}`);
    const entries = [...entities, ...others].map((e, i) => populateEntry(key(e), e, T0 + 100 + i));
    assert.equal(await cache.populate(entries), entries.length);
    assert.deepEqual(await cache.getMany(entries.map((e) => e.key)), entries.map((e) => e.payload), "before: the client learns the slot map");

    const from = await cluster.slotOwner(slot);
    const to = (from + 1) % 3;
    await cluster.migrateSlot(slot, from, to);
    assert.equal(await cluster.slotOwner(slot), to);
    const onOld = await getOn(cluster, from, key(entities[0]!));
    assert.ok(onOld instanceof RedisError && onOld.message.startsWith("MOVED"), "the old owner redirects");

    assert.deepEqual(await cache.getMany(entries.map((e) => e.key)), entries.map((e) => e.payload), "after: the same values, no error");
    const [k0, k1] = [key(entities[0]!), key(entities[1]!)];
    assert.equal(await cache.populate([populateEntry(k0, entities[0]!, T0 + 1, 60_000, '{"older":true}')]), 0, "compare-and-set holds on the new owner");
    const newer = populateEntry(k1, entities[1]!, T0 + 10_000, 60_000, '{"newer":true}');
    assert.equal(await cache.populate([newer]), 1);
    assert.equal(await getOn(cluster, to, k0), entries[0]!.payload, "the new owner holds the kept entry");
    assert.equal(await getOn(cluster, to, k1), newer.payload, "and the newer one");

    const fresh = await open(); // a client that never saw the old slot map
    assert.deepEqual(await fresh.getMany([k0, k1]), [entries[0]!.payload, newer.payload]);
    assert.equal(await fresh.populate([populateEntry(k1, entities[1]!, T0 + 9_999)]), 0);
  });
});
