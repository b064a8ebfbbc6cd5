import assert from "node:assert/strict";
import { randomBytes, randomInt } from "node:crypto";
import { afterEach, beforeEach, describe, it } from "node:test";
import { encodeEntry } from "../../src/online/cache/cache-entry.js";
import { CacheKeys } from "../../src/online/cache/cache-keys.js";
import type { FeatureCache, PopulateEntry } from "../../src/online/cache/feature-cache.js";
import type { ViewRef } from "../../src/online/online-store.js";
import { shuffle } from "../helpers/shuffle.js";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * A cache backend, described once so the conformance suite runs against each. `useInThisSuite`
 * is called in a describe body and registers the hooks the backend needs (a Redis server or
 * cluster); `open` then gives a client of the cache under test.
 */
export interface CacheBackend {
  readonly name: string;
  useInThisSuite(): void;
  /**
   * A client of the cache this test uses. Called twice in a test, it gives a second client of
   * the same cache where the backend has clients (Redis: another connection), so that two
   * clients can race; the in-process memory cache gives the same cache again.
   */
  open(): Promise<FeatureCache>;
  /** The key's remaining time to live (ms) as the server reports it (PTTL: -2 when absent), where the backend can tell. */
  pttl?(key: string): Promise<number>;
}

/** About 2023-11-14 in µs: the write times the durable store hands out. */
export const T0 = 1_700_000_000_000_000;
export const VIEW: ViewRef = { view: "driver_stats", version: 3 };

/** A key namespace no other test uses: `strata-t-<hex>:rides:driver_stats:v3:<entity>`. */
export function uniqueKeys(): CacheKeys {
  return new CacheKeys(`strata-t-${randomBytes(6).toString("hex")}`, "rides");
}

/** An encoded cache entry for `entityKey` written at `writeTs` (a negative entry, "the store has nothing", when `values` is null). */
function entryText(entityKey: string, writeTs: number, values: string | null = `{"entity":${JSON.stringify(entityKey)},"w":${writeTs}}`, expiresAt = Date.now() + 60_000): string {
  if (values === null) return encodeEntry({ record: null, writeTs: 0, expiresAt, deltaMs: 2 });
  return encodeEntry({ record: { entityKey, values, eventTs: writeTs - 5_000_000, createdTs: writeTs - 4_000_000, writeTs }, writeTs, expiresAt, deltaMs: 7 });
}

export function populateEntry(key: string, entityKey: string, writeTs: number, ttlMs = 60_000, values?: string | null): PopulateEntry {
  return { key, writeTs: values === null ? 0 : writeTs, payload: entryText(entityKey, writeTs, values), ttlMs };
}

/** Entity keys that would break naive key handling: separators, braces (Redis Cluster hash tags), unicode, spaces. */
const AWKWARD_ENTITIES = ["1001", "a:b:c", "{1001}", "x{}y", "}{", "ünïcødé-☃-😀", "with space", "[1001,\"x\"]", "line\nbreak", "|pipe|"];

/** Feature values that must come back byte for byte inside an entry. */
const AWKWARD_VALUES = [
  '{"trips":12,"rating":4.75}',
  '{"name":"Zoë ☃ 😀","note":"a|b|c","nested":{"x":[1,null,true,-0.5e-7]}}',
  "{}",
  '{"s":"line1\\nline2\\r\\n\\ttab \\"q\\" \\\\ back"}',
  "raw\nnew\r\nlines|and|bars",
  JSON.stringify({ long: "x".repeat(200_000) }),
];

/** Opens cache clients and closes each one once when the test ends. */
class Clients {
  private readonly open = new Set<FeatureCache>();

  constructor(private readonly backend: CacheBackend) {}

  async client(): Promise<FeatureCache> {
    const cache = await this.backend.open();
    this.open.add(cache);
    return cache;
  }

  async closeAll(): Promise<void> {
    const caches = [...this.open];
    this.open.clear();
    await Promise.all(caches.map((c) => c.close()));
  }
}

/**
 * The contract of `FeatureCache` (src/online/cache/feature-cache.ts), run against every cache:
 * ordered multi-key reads, exact round-trips, compare-and-set on write time (older refused,
 * newer and equal stored), expiry that a refused populate does not extend, deletes, locks, and
 * populates racing a newer write. Each test uses its own key namespace.
 */
export function cacheConformance(backend: CacheBackend): void {
  describe(`FeatureCache conformance: ${backend.name}`, () => {
    let clients: Clients;
    let keys: CacheKeys;
    const key = (entity: string): string => keys.entry(VIEW, entity);
    backend.useInThisSuite();
    beforeEach(() => {
      clients = new Clients(backend);
      keys = uniqueKeys();
    });
    afterEach(() => clients.closeAll());

    describe("reads", () => {
      it("returns one result per key, in order, null where absent, repeated keys included", async () => {
        const cache = await clients.client();
        assert.deepEqual(await cache.getMany([]), []);
        assert.equal(await cache.populate([]), 0);
        assert.deepEqual(await cache.getMany([key("1"), key("2")]), [null, null], "a fresh namespace is empty");
        const entries = ["1", "2", "3"].map((e, i) => populateEntry(key(e), e, T0 + i));
        assert.equal(await cache.populate(entries), 3);
        const [e1, e2, e3] = entries.map((e) => e.payload);
        assert.deepEqual(await cache.getMany([key("2"), key("absent"), key("1"), key("2"), key("3"), key("absent-2")]), [e2, null, e1, e2, e3, null]);
        assert.deepEqual(await cache.getMany([key("3")]), [e3]);
      });

      it("round-trips encoded entries (awkward keys and values, negative entries) exactly", async () => {
        const cache = await clients.client();
        const entries = AWKWARD_ENTITIES.map((e, i) => populateEntry(key(e), e, T0 + 1_000_003 * i + 1, 60_000, AWKWARD_VALUES[i % AWKWARD_VALUES.length]));
        entries.push(populateEntry(key("negative"), "negative", 0, 60_000, null));
        assert.equal(await cache.populate(entries), entries.length);
        const got = await cache.getMany(entries.map((e) => e.key));
        for (const [i, e] of entries.entries()) assert.equal(got[i], e.payload, `entry ${i} (${JSON.stringify(e.key)})`);
      });

      it("reads 2,000 keys (and absent and repeated ones) in one call", async () => {
        const cache = await clients.client();
        const entities = Array.from({ length: 2000 }, (_, i) => `driver-${i}`);
        const entries = entities.map((e, i) => populateEntry(key(e), e, T0 + i * 17));
        assert.equal(await cache.populate(entries), 2000);
        const payloadOf = new Map(entries.map((e) => [e.key, e.payload]));
        const request = shuffle([...entities.map(key), ...Array.from({ length: 300 }, (_, i) => key(`absent-${i}`)), ...entities.slice(0, 50).map(key)]);
        const got = await cache.getMany(request);
        assert.equal(got.length, request.length);
        assert.deepEqual(got, request.map((k) => payloadOf.get(k) ?? null));
      });
      it("answers reads issued together each with its own keys' values (reads may share a round trip)", async () => {
        const cache = await clients.client();
        const entries = ["a", "b", "c", "d"].map((e, i) => populateEntry(key(e), e, T0 + i));
        await cache.populate(entries);
        const [a, b, c, d] = entries.map((e) => e.payload);
        const requests = [[key("a")], [], [key("b"), key("absent"), key("a")], [key("d")], [key("c"), key("c")], [key("absent")]];
        const got = await Promise.all(requests.map((r) => cache.getMany(r)));
        assert.deepEqual(got, [[a], [], [b, null, a], [d], [c, c], [null]]);
      });
    });

    describe("compare-and-set on write time", () => {
      it("refuses an older write time (keeping the cached entry), stores a newer one and an equal one", async () => {
        const cache = await clients.client();
        const k = key("1001");
        const first = populateEntry(k, "1001", T0 + 1000);
        assert.equal(await cache.populate([first]), 1);

        const older = populateEntry(k, "1001", T0 + 999, 60_000, '{"stale":true}');
        assert.equal(await cache.populate([older]), 0, "an older write time is refused");
        assert.deepEqual(await cache.getMany([k]), [first.payload], "and the cached entry is kept");

        const newer = populateEntry(k, "1001", T0 + 1001, 60_000, '{"fresh":true}');
        assert.equal(await cache.populate([newer]), 1);
        assert.deepEqual(await cache.getMany([k]), [newer.payload]);

        const same = { ...newer, payload: entryText("1001", T0 + 1001, '{"fresh":true}', Date.now() + 120_000) }; // an early refresh of the same record
        assert.equal(await cache.populate([same]), 1, "an equal write time is stored");
        assert.deepEqual(await cache.getMany([k]), [same.payload]);

        const negative = populateEntry(k, "1001", 0, 60_000, null);
        assert.equal(await cache.populate([negative]), 0, "a negative entry (write time 0) never replaces a record");
        assert.deepEqual(await cache.getMany([k]), [same.payload]);

        const k2 = key("1002");
        const negative2 = populateEntry(k2, "1002", 0, 60_000, null);
        assert.equal(await cache.populate([negative2]), 1);
        const record = populateEntry(k2, "1002", T0 + 1);
        assert.equal(await cache.populate([record]), 1, "a record replaces a negative entry");
        assert.deepEqual(await cache.getMany([k2]), [record.payload]);
      });

      it("decides each entry of one populate call on its own", async () => {
        const cache = await clients.client();
        const [a, b, c, d] = ["a", "b", "c", "d"].map(key) as [string, string, string, string];
        await cache.populate([populateEntry(a, "a", T0 + 10), populateEntry(b, "b", T0 + 10), populateEntry(d, "d", T0 + 10)]);
        const keptA = (await cache.getMany([a]))[0];
        const batch = [populateEntry(a, "a", T0 + 5), populateEntry(b, "b", T0 + 20), populateEntry(c, "c", T0 + 1), populateEntry(d, "d", T0 + 10, 60_000, '{"refresh":1}')];
        assert.equal(await cache.populate(shuffle(batch)), 3, "b (newer), c (absent) and d (equal) are stored, a (older) is not");
        assert.deepEqual(await cache.getMany([a, b, c, d]), [keptA, batch[1]!.payload, batch[2]!.payload, batch[3]!.payload]);
      });

      it("applies the entries of one call in order when a key appears twice", async () => {
        const cache = await clients.client();
        const [x, y] = [key("x"), key("y")];
        const newerFirst = [populateEntry(x, "x", T0 + 7), populateEntry(x, "x", T0 + 3)];
        assert.equal(await cache.populate(newerFirst), 1, "the second, older entry is refused");
        const olderFirst = [populateEntry(y, "y", T0 + 3), populateEntry(y, "y", T0 + 7)];
        assert.equal(await cache.populate(olderFirst), 2, "the second, newer entry replaces the first");
        assert.deepEqual(await cache.getMany([x, y]), [newerFirst[0]!.payload, olderFirst[1]!.payload]);
      });

      it("ends with the newer entry when a populate of an older one races it (many times, both orders, two clients)", async () => {
        const one = await clients.client();
        const two = await clients.client();
        const rounds = 300;
        const newer: PopulateEntry[] = [];
        const races: Promise<[number, number]>[] = [];
        for (let i = 0; i < rounds; i++) {
          const k = key(`race-${i}`);
          const oldEntry = populateEntry(k, `race-${i}`, T0 + i, 60_000, `{"old":${i}}`);
          const newEntry = populateEntry(k, `race-${i}`, T0 + i + 1 + randomInt(1000), 60_000, `{"new":${i}}`);
          newer.push(newEntry);
          const [forOld, forNew] = randomInt(2) === 0 ? [one, two] : [two, one];
          // Both populates are in flight together; which one is sent first is random.
          if (randomInt(2) === 0) {
            const o = forOld.populate([oldEntry]);
            const n = forNew.populate([newEntry]);
            races.push(Promise.all([o, n]));
          } else {
            const n = forNew.populate([newEntry]);
            const o = forOld.populate([oldEntry]);
            races.push(Promise.all([o, n]));
          }
        }
        const results = await Promise.all(races);
        assert.ok(
          results.every(([, n]) => n === 1),
          "the newer entry is always stored (nothing newer is cached)",
        );
        assert.deepEqual(await one.getMany(newer.map((e) => e.key)), newer.map((e) => e.payload));
        assert.deepEqual(await two.getMany(newer.map((e) => e.key)), newer.map((e) => e.payload));
      });
    });

    describe("expiry", () => {
      it("drops an entry once its TTL has passed", async () => {
        const cache = await clients.client();
        const k = key("short");
        const e = populateEntry(k, "short", T0, 200);
        const longer = populateEntry(key("long"), "long", T0, 60_000);
        assert.equal(await cache.populate([e, longer]), 2);
        assert.deepEqual(await cache.getMany([k]), [e.payload]);
        if (backend.pttl !== undefined) {
          const ttl = await backend.pttl(k);
          assert.ok(ttl > 0 && ttl <= 200, `PTTL ${ttl} is within the 200 ms asked for`);
        }
        await sleep(400);
        assert.deepEqual(await cache.getMany([k, longer.key]), [null, longer.payload], "the short entry is gone, the long one is not");
        if (backend.pttl !== undefined) assert.equal(await backend.pttl(k), -2);
      });

      it("does not extend the TTL on a refused populate", async () => {
        const cache = await clients.client();
        const k = key("1001");
        const kept = populateEntry(k, "1001", T0 + 10, 300);
        assert.equal(await cache.populate([kept]), 1);
        assert.equal(await cache.populate([populateEntry(k, "1001", T0 + 5, 60_000)]), 0);
        if (backend.pttl !== undefined) {
          const ttl = await backend.pttl(k);
          assert.ok(ttl > 0 && ttl <= 300, `PTTL ${ttl}: still the first entry's`);
        }
        assert.deepEqual(await cache.getMany([k]), [kept.payload]);
        await sleep(500);
        assert.deepEqual(await cache.getMany([k]), [null], "gone at the first entry's expiry");
      });

      it("renews the TTL on a populate with an equal write time", async () => {
        const cache = await clients.client();
        const k = key("1001");
        assert.equal(await cache.populate([populateEntry(k, "1001", T0 + 10, 600)]), 1);
        await sleep(300);
        const refresh = { ...populateEntry(k, "1001", T0 + 10, 600), payload: entryText("1001", T0 + 10, undefined, Date.now() + 600) };
        assert.equal(await cache.populate([refresh]), 1);
        if (backend.pttl !== undefined) {
          const ttl = await backend.pttl(k);
          assert.ok(ttl > 350 && ttl <= 600, `PTTL ${ttl}: renewed to the new 600 ms (the first entry had at most 300 ms left)`);
        }
        await sleep(400); // 700 ms after the first populate: past its TTL, within the renewed one
        assert.deepEqual(await cache.getMany([k]), [refresh.payload]);
      });

      it("lets an older entry in once the newer cached one has expired", async () => {
        const cache = await clients.client();
        const k = key("1001");
        assert.equal(await cache.populate([populateEntry(k, "1001", T0 + 10, 100)]), 1);
        await sleep(300);
        const older = populateEntry(k, "1001", T0 + 5);
        assert.equal(await cache.populate([older]), 1, "an expired entry does not block anything");
        assert.deepEqual(await cache.getMany([k]), [older.payload]);
      });
    });

    describe("deletes and locks", () => {
      it("delete removes the given keys only, and a deleted key takes any write time again", async () => {
        const cache = await clients.client();
        const entries = ["1", "2", "3", "4"].map((e) => populateEntry(key(e), e, T0 + 100));
        await cache.populate(entries);
        await cache.delete([key("1"), key("3"), key("absent"), key("1")]);
        assert.deepEqual(await cache.getMany(entries.map((e) => e.key)), [null, entries[1]!.payload, null, entries[3]!.payload]);
        await cache.delete([]);
        const older = populateEntry(key("1"), "1", T0 + 1);
        assert.equal(await cache.populate([older]), 1, "nothing remembers the deleted entry's write time");
        assert.deepEqual(await cache.getMany([key("1")]), [older.payload]);
      });

      it("tryLock: the first caller gets the lock, others do not until its TTL has passed", async () => {
        const one = await clients.client();
        const two = await clients.client();
        const lock = keys.refreshLock(key("1001"));
        assert.equal(await one.tryLock(lock, 300), true);
        assert.equal(await one.tryLock(lock, 300), false);
        assert.equal(await two.tryLock(lock, 300), false, "another client does not get it either");
        assert.equal(await two.tryLock(keys.refreshLock(key("1002")), 300), true, "another lock is independent");
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? one : two).tryLock(keys.refreshLock(key("contended")), 5000)));
        assert.equal(results.filter(Boolean).length, 1, "of 20 concurrent callers exactly one gets a free lock");
        await sleep(450);
        assert.equal(await two.tryLock(lock, 300), true, "free again after its TTL");
        assert.equal(await one.tryLock(lock, 300), false);
      });
    });
  });
}
