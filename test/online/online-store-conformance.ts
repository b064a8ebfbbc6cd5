import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { MaterializationJob, OnlineStore, OnlineWrite, StoredRecord, StoredState, ViewRef } from "../../src/online/online-store.js";
import { shuffle } from "../helpers/shuffle.js";
import { isTombstone, TOMBSTONE_CREATED_TS } from "../../src/online/tombstone.js";

/** Opens a store for `project` in one isolated place; call it again for a second instance on the same place (file, schema). */
export type OpenOnlineStore = (project: string) => OnlineStore;

/**
 * An online store backend, described once so the conformance suite runs against each. In the
 * style of test/registry/registry-backends.ts: `useInThisSuite` is called in a describe body and
 * registers the hooks the backend needs (a temp folder, a PostgreSQL server); `isolate` gives
 * each test a fresh, empty place (a new SQLite file, a new random schema).
 */
export interface OnlineStoreBackend {
  readonly name: string;
  useInThisSuite(): void;
  isolate(): OnlineStorePlace;
}

export interface OnlineStorePlace {
  readonly open: OpenOnlineStore;
  /**
   * Moves the stored write time of one record forward by `deltaMicros`, straight in the
   * backend's table: what a record written by a server whose clock runs ahead looks like. The
   * only test that reaches under the interface, to check that write times still increase when
   * the local clock is behind the replaced record's.
   */
  shiftWriteTs(project: string, view: ViewRef, entityKey: string, deltaMicros: number): Promise<void>;
}

/** About 2023-11-14 in µs; every time in these tests is near it, with µs digits that are not zeros. */
const T0 = 1_700_000_000_000_000;

const VIEW_A1: ViewRef = { view: "driver_stats", version: 1 };
const VIEW_A2: ViewRef = { view: "driver_stats", version: 2 };
const VIEW_B1: ViewRef = { view: "customer_stats", version: 1 };

/** Entity keys that would break naive quoting, LIKE patterns, separators or byte-wise comparisons. */
const AWKWARD_KEYS = ["1001", "O'Brien", 'quote"d', "100%_match", "a|b:c", "ünïcødé-☃-😀", "with space", "[1001,\"x\"]", "line\nbreak"];

/** Feature values (JSON text) that must come back byte for byte. */
const AWKWARD_VALUES = [
  '{"trips":12,"rating":4.75}',
  '{"name":"Zoë ☃ 😀","note":"a|b|c","nested":{"x":[1,null,true,-0.5e-7]}}',
  "{}",
  '{"s":"line1\\nline2\\ttab \\"q\\" \\\\ back"}',
  '{"big":9007199254740991,"neg":-12345678901234,"f":1.0000000000000002}',
  '  {"spaced" :  [ 1 , 2 ] }  ',
  JSON.stringify({ long: "x".repeat(100_000) }),
];

const row = (entityKey: string, eventTs: number, createdTs: number, values = valuesOf(entityKey, eventTs, createdTs)): OnlineWrite => ({ entityKey, values, eventTs, createdTs });

function withoutSealed({ entityKey, values, eventTs, createdTs, writeTs }: StoredState): StoredRecord {
  return { entityKey, values, eventTs, createdTs, writeTs };
}

/** Values that name their own (key, event, created): two rows with equal times carry equal values, so a winner is unambiguous. */
function valuesOf(entityKey: string, eventTs: number, createdTs: number): string {
  return JSON.stringify({ k: entityKey, e: eventTs, c: createdTs });
}

const withoutWriteTs = ({ entityKey, values, eventTs, createdTs }: OnlineWrite): OnlineWrite => ({ entityKey, values, eventTs, createdTs });
const byKey = (a: { entityKey: string }, b: { entityKey: string }): number => (a.entityKey < b.entityKey ? -1 : a.entityKey > b.entityKey ? 1 : 0);
const newer = (a: OnlineWrite, b: OnlineWrite): boolean => a.eventTs > b.eventTs || (a.eventTs === b.eventTs && a.createdTs > b.createdTs);

const job = (view: ViewRef, start: number, end: number, status: MaterializationJob["status"], extra: Partial<MaterializationJob> = {}): MaterializationJob => ({
  view: view.view,
  version: view.version,
  start,
  end,
  status,
  resumeAfter: null,
  rows: 0,
  updatedAt: "2024-05-01T12:00:00.000Z",
  ...extra,
});

/** Opens stores and closes every one of them when the test ends, so a failed assertion never leaks a pool or a file handle. */
class Stores {
  private readonly open = new Set<OnlineStore>();

  constructor(readonly place: OnlineStorePlace) {}

  store(project: string): OnlineStore {
    const store = this.place.open(project);
    this.open.add(store);
    return store;
  }

  async close(store: OnlineStore): Promise<void> {
    if (this.open.delete(store)) await store.close();
  }

  async closeAll(): Promise<void> {
    const stores = [...this.open];
    this.open.clear();
    await Promise.all(stores.map((s) => s.close()));
  }
}

/**
 * Random batches (repeated keys inside a batch too) over a small key space with few
 * distinct times, so ties on event time and on (event, created) are common; every write
 * carries values naming its times, so the expected winner per key is unambiguous.
 */
export function randomBatches(batches: number, size: number, keys: number): OnlineWrite[][] {
  return Array.from({ length: batches }, () =>
    Array.from({ length: size }, () => {
      const key = `key-${randomInt(keys)}`;
      return row(key, T0 + randomInt(8) * 1_000_001, T0 + randomInt(4));
    }),
  );
}

/** Brute force: the max (event, created) per key over every row ever written. */
function oracle(batches: readonly OnlineWrite[][]): Map<string, OnlineWrite> {
  const best = new Map<string, OnlineWrite>();
  for (const r of batches.flat()) {
    const current = best.get(r.entityKey);
    if (current === undefined || newer(r, current)) best.set(r.entityKey, r);
  }
  return best;
}

/**
 * Checks the end state of concurrent `batches` (written to VIEW_A1) against the oracle, and that
 * the applied rows they returned (`results`), ordered by write time, are strictly newer each time
 * and end with the stored record.
 */
export async function checkConcurrentOutcome(reader: OnlineStore, batches: readonly OnlineWrite[][], results: readonly StoredRecord[][]): Promise<void> {
  const expected = oracle(batches);
  const keys = [...expected.keys()].sort();
  const stored = await reader.readMany(VIEW_A1, keys);
  assert.deepEqual(
    stored.map((r) => r && withoutWriteTs(r)),
    keys.map((k) => expected.get(k)),
    "every key holds the row with the max (event, created)",
  );
  // The applied writes of a key, ordered by write time, must be strictly newer each time, and
  // the last of them is the stored record: write times order the applied writes of a key.
  const appliedPerKey = new Map<string, StoredRecord[]>();
  for (const r of results.flat()) appliedPerKey.set(r.entityKey, [...(appliedPerKey.get(r.entityKey) ?? []), r]);
  for (const [i, key] of keys.entries()) {
    const applied = (appliedPerKey.get(key) ?? []).sort((a, b) => a.writeTs - b.writeTs);
    assert.ok(applied.length > 0, `${key}: some write was applied`);
    for (let j = 1; j < applied.length; j++) {
      assert.ok(applied[j]!.writeTs > applied[j - 1]!.writeTs, `${key}: distinct write times`);
      assert.ok(newer(applied[j]!, applied[j - 1]!), `${key}: a later applied write is newer by (event, created)`);
    }
    assert.deepEqual(applied.at(-1), stored[i], `${key}: the last applied write is the stored record`);
  }
}

/**
 * The contract of `OnlineStore` (src/online/online-store.ts), run against every backend: exact
 * round-trips, compare-and-set by (event, created) time, write times that order the applied
 * writes of a key, isolation of views, versions and projects, deletes and teardown, the
 * materialization log, concurrent writers and durability across instances. Each test gets a
 * fresh, empty place and its own project names.
 */
export function onlineStoreConformance(backend: OnlineStoreBackend): void {
  describe(`OnlineStore conformance: ${backend.name}`, () => {
    let stores: Stores;
    backend.useInThisSuite();
    beforeEach(() => {
      stores = new Stores(backend.isolate());
    });
    afterEach(() => stores.closeAll());

    describe("reads and writes", () => {
      it("returns one result per requested key, in request order, undefined where absent, duplicates included", async () => {
        const store = stores.store("p");
        const n = 600; // more than one read chunk of a backend that splits reads
        const rows = Array.from({ length: n }, (_, i) => row(`driver-${i}`, T0 + 1_000_003 * i + 7, T0 + 2_000_000_000 + i));
        const before = Date.now();
        const applied = await store.writeBatch(VIEW_A1, rows);
        const after = Date.now();
        assert.equal(applied.length, n, "every row of an empty store is applied");
        assert.deepEqual(applied.map(withoutWriteTs).sort(byKey), [...rows].sort(byKey));
        for (const record of applied) {
          assert.ok(Number.isSafeInteger(record.writeTs), `writeTs ${record.writeTs} is an integer`);
          assert.ok(record.writeTs >= before * 1000 && record.writeTs <= (after + 1) * 1000, `writeTs ${record.writeTs} is the wall clock in µs (${before}..${after} ms)`);
        }
        const writeTsOf = new Map(applied.map((r) => [r.entityKey, r.writeTs]));

        const present = shuffle(rows);
        const request: string[] = [];
        const expected: (StoredRecord | undefined)[] = [];
        for (const [i, r] of present.entries()) {
          request.push(r.entityKey);
          expected.push({ ...r, writeTs: writeTsOf.get(r.entityKey)! });
          if (i % 5 === 0) {
            request.push(`absent-${i}`);
            expected.push(undefined);
          }
          if (i % 7 === 0) {
            const again = present[randomInt(i + 1)]!; // a key requested before, asked for again
            request.push(again.entityKey);
            expected.push({ ...again, writeTs: writeTsOf.get(again.entityKey)! });
          }
        }
        const got = await store.readMany(VIEW_A1, request);
        assert.equal(got.length, request.length);
        assert.deepEqual(got, expected);
        assert.deepEqual(await store.readMany(VIEW_A1, ["absent", "absent"]), [undefined, undefined]);
        assert.deepEqual(await store.readMany(VIEW_A1, []), []);
        assert.deepEqual(await store.writeBatch(VIEW_A1, []), [], "an empty batch applies nothing");
      });

      it("round-trips awkward entity keys and feature values (JSON text) byte for byte, and µs times exactly", async () => {
        const store = stores.store("p");
        const rows = AWKWARD_KEYS.map((key, i) =>
          row(key, T0 + 123_456_789 * i + 1, T0 + 987_654_321 + i * 3 + 1, AWKWARD_VALUES[i % AWKWARD_VALUES.length]),
        );
        rows.push(row("extreme-times", 1_799_999_999_999_999, 1_000_000_000_000_001, '{"edge":true}'));
        const applied = await store.writeBatch(VIEW_A1, rows);
        assert.equal(applied.length, rows.length);
        const got = await store.readMany(VIEW_A1, rows.map((r) => r.entityKey));
        assert.deepEqual(got.map((r) => (r === undefined ? undefined : withoutWriteTs(r))), rows);
        for (const [i, r] of rows.entries()) {
          assert.equal(got[i]?.values, r.values, `values of ${JSON.stringify(r.entityKey)}`);
          assert.equal(got[i]?.eventTs, r.eventTs);
          assert.equal(got[i]?.createdTs, r.createdTs);
        }
        assert.deepEqual(await store.readMany(VIEW_A1, ["o'brien", "1001 ", "100%"]), [undefined, undefined, undefined], "keys match exactly, not by case, prefix or pattern");
      });

      it("a reopened store (same place) sees the records, write times and materializations", async () => {
        const first = stores.store("p");
        const applied = await first.writeBatch(VIEW_A1, [row("1", T0 + 11, T0 + 12), row("2", T0 + 21, T0 + 22)]);
        await first.writeBatch(VIEW_B1, [row("1", T0 + 31, T0 + 32)]);
        await first.materializations.save(job(VIEW_A1, T0, T0 + 1000, "done", { rows: 2 }));
        await stores.close(first);

        const second = stores.store("p");
        const writeTsOf = new Map(applied.map((r) => [r.entityKey, r.writeTs]));
        assert.deepEqual(await second.readMany(VIEW_A1, ["2", "1", "3"]), [
          { ...row("2", T0 + 21, T0 + 22), writeTs: writeTsOf.get("2") },
          { ...row("1", T0 + 11, T0 + 12), writeTs: writeTsOf.get("1") },
          undefined,
        ]);
        assert.equal((await second.readMany(VIEW_B1, ["1"]))[0]?.values, valuesOf("1", T0 + 31, T0 + 32));
        assert.deepEqual(await second.materializations.find(VIEW_A1, T0, T0 + 1000), job(VIEW_A1, T0, T0 + 1000, "done", { rows: 2 }));
        assert.equal(await second.materializations.lastEnd(VIEW_A1), T0 + 1000);
        // and the compare-and-set state survived too
        assert.deepEqual(await second.writeBatch(VIEW_A1, [row("1", T0 + 10, T0 + 99)]), [], "an older row is still refused after reopening");
      });
    });

    describe("compare-and-set", () => {
      it("replaces only with a strictly newer (event, created) time; an equal pair is a harmless replay", async () => {
        const store = stores.store("p");
        const read = async (): Promise<OnlineWrite | undefined> => {
          const [r] = await store.readMany(VIEW_A1, ["k"]);
          return r === undefined ? undefined : withoutWriteTs(r);
        };
        const first = row("k", T0 + 100, T0 + 50, '{"v":"first"}');
        assert.equal((await store.writeBatch(VIEW_A1, [first])).length, 1);

        assert.deepEqual(await store.writeBatch(VIEW_A1, [row("k", T0 + 99, T0 + 999, '{"v":"older event, newer created"}')]), []);
        assert.deepEqual(await read(), first, "an older event time never replaces, whatever its created time");

        assert.deepEqual(await store.writeBatch(VIEW_A1, [row("k", T0 + 100, T0 + 49, '{"v":"same event, older created"}')]), []);
        assert.deepEqual(await read(), first);

        const replay = row("k", T0 + 100, T0 + 50, '{"v":"same times, other values"}');
        assert.deepEqual(await store.writeBatch(VIEW_A1, [replay]), [], "equal (event, created): not applied");
        assert.deepEqual(await read(), first, "a replay does not replace the stored values");

        const sameEventNewerCreated = row("k", T0 + 100, T0 + 51, '{"v":"same event, newer created"}');
        const [applied] = await store.writeBatch(VIEW_A1, [sameEventNewerCreated]);
        assert.deepEqual(applied === undefined ? undefined : withoutWriteTs(applied), sameEventNewerCreated);
        assert.deepEqual(await read(), sameEventNewerCreated, "equal event time with a greater created time replaces");

        const newerEventOlderCreated = row("k", T0 + 101, T0 + 1, '{"v":"newer event, older created"}');
        assert.equal((await store.writeBatch(VIEW_A1, [newerEventOlderCreated])).length, 1);
        assert.deepEqual(await read(), newerEventOlderCreated, "a newer event time replaces, whatever its created time");
      });

      it("returns exactly the applied rows of a mixed batch, with the write times that a read then shows", async () => {
        const store = stores.store("p");
        await store.writeBatch(VIEW_A1, [row("old", T0 + 500, T0), row("same", T0 + 500, T0), row("newer", T0 + 500, T0), row("tie-created", T0 + 500, T0)]);
        const batch = [
          row("old", T0 + 499, T0 + 10), // older event: skipped
          row("same", T0 + 500, T0, '{"replay":true}'), // equal: skipped
          row("newer", T0 + 501, T0), // applied
          row("tie-created", T0 + 500, T0 + 1), // applied
          row("fresh", T0 + 1, T0 + 1), // new key: applied, however old
        ];
        const applied = await store.writeBatch(VIEW_A1, shuffle(batch));
        assert.deepEqual(applied.map(withoutWriteTs).sort(byKey), [batch[2]!, batch[3]!, batch[4]!].sort(byKey));
        const reads = await store.readMany(VIEW_A1, applied.map((r) => r.entityKey));
        assert.deepEqual(reads, applied, "the returned records (write times included) are what the store now holds");
      });

      it("keeps the newest row when a batch holds the same key more than once, whatever its position", async () => {
        const store = stores.store("p");
        const dupes = [row("a", T0 + 5, T0), row("a", T0 + 7, T0), row("a", T0 + 6, T0 + 9)];
        const ties = [row("b", T0 + 7, T0 + 2), row("b", T0 + 7, T0 + 1), row("b", T0 + 7, T0 + 3), row("b", T0 + 7, T0)];
        const applied = await store.writeBatch(VIEW_A1, [...dupes, ...ties]);
        assert.deepEqual(applied.map(withoutWriteTs).sort(byKey), [row("a", T0 + 7, T0), row("b", T0 + 7, T0 + 3)]);
        const applied2 = await store.writeBatch(VIEW_A1, [row("c", T0 + 9, T0), row("c", T0 + 3, T0), row("a", T0 + 8, T0), row("a", T0 + 6, T0)]);
        assert.deepEqual(applied2.map(withoutWriteTs).sort(byKey), [row("a", T0 + 8, T0), row("c", T0 + 9, T0)], "the newest first, older ones after it");
        assert.deepEqual((await store.readMany(VIEW_A1, ["a", "b", "c"])).map((r) => r && withoutWriteTs(r)), [row("a", T0 + 8, T0), row("b", T0 + 7, T0 + 3), row("c", T0 + 9, T0)]);
      });

      it("gives each applied write of a key a write time above the one it replaced, even within one clock tick (quick successive writes)", async () => {
        const store = stores.store("p");
        let previous = 0;
        for (let i = 0; i < 60; i++) {
          const applied = await store.writeBatch(VIEW_A1, [row("k", T0 + i, T0)]);
          assert.equal(applied.length, 1, `write ${i} is applied`);
          const writeTs = applied[0]!.writeTs;
          assert.ok(writeTs > previous, `write ${i}: writeTs ${writeTs} > ${previous}`);
          previous = writeTs;
          // a skipped write does not move the write time
          assert.deepEqual(await store.writeBatch(VIEW_A1, [row("k", T0 + i, T0)]), []);
          assert.equal((await store.readMany(VIEW_A1, ["k"]))[0]?.writeTs, writeTs);
        }
      });

      it("gives a write a write time above the replaced record's even when the local clock is behind it (a record from a server whose clock runs ahead)", async () => {
        const store = stores.store("p");
        const [first] = await store.writeBatch(VIEW_A1, [row("k", T0 + 1, T0)]);
        const ahead = 3_600_000_000; // one hour, in µs
        await stores.place.shiftWriteTs("p", VIEW_A1, "k", ahead);
        const stored = (await store.readMany(VIEW_A1, ["k"]))[0]!;
        assert.equal(stored.writeTs, first!.writeTs + ahead);
        const [second] = await store.writeBatch(VIEW_A1, [row("k", T0 + 2, T0)]);
        assert.ok(second !== undefined, "the newer row is applied");
        assert.ok(second.writeTs > stored.writeTs, `writeTs ${second.writeTs} > ${stored.writeTs} (clock now ~${Date.now() * 1000})`);
        const [third] = await store.writeBatch(VIEW_A1, [row("k", T0 + 3, T0)]);
        assert.ok(third !== undefined && third.writeTs > second.writeTs, "and the next one above that");
        assert.deepEqual((await store.readMany(VIEW_A1, ["k"]))[0], third);
      });
    });

    describe("isolation, deletes and teardown", () => {
      it("keeps views and versions apart: the same entity key in view A v1, A v2 and B v1", async () => {
        const store = stores.store("p");
        const a1 = row("1001", T0 + 300, T0, '{"view":"A1"}');
        const a2 = row("1001", T0 + 100, T0, '{"view":"A2"}'); // older than A v1's row: compare-and-set is per view version
        const b1 = row("1001", T0 + 200, T0, '{"view":"B1"}');
        assert.equal((await store.writeBatch(VIEW_A1, [a1])).length, 1);
        assert.equal((await store.writeBatch(VIEW_A2, [a2])).length, 1);
        assert.equal((await store.writeBatch(VIEW_B1, [b1])).length, 1);
        assert.deepEqual((await store.readMany(VIEW_A1, ["1001"])).map((r) => r?.values), ['{"view":"A1"}']);
        assert.deepEqual((await store.readMany(VIEW_A2, ["1001"])).map((r) => r?.values), ['{"view":"A2"}']);
        assert.deepEqual((await store.readMany(VIEW_B1, ["1001"])).map((r) => r?.values), ['{"view":"B1"}']);
        assert.deepEqual(await store.readMany({ view: "driver_stats", version: 3 }, ["1001"]), [undefined]);
        assert.deepEqual(await store.readMany({ view: "driver_stat", version: 1 }, ["1001"]), [undefined]);

        assert.equal(await store.delete(VIEW_A2, ["1001"]), 1);
        assert.deepEqual((await store.readMany(VIEW_A1, ["1001"])).map((r) => r?.values), ['{"view":"A1"}']);
        assert.deepEqual(await store.readMany(VIEW_A2, ["1001"]), [undefined]);
        assert.deepEqual((await store.readMany(VIEW_B1, ["1001"])).map((r) => r?.values), ['{"view":"B1"}']);
      });

      it("keeps projects apart (two projects in one place)", async () => {
        const one = stores.store("rides");
        const two = stores.store("rides_2");
        await one.writeBatch(VIEW_A1, [row("1001", T0 + 2, T0, '{"project":"rides"}')]);
        assert.deepEqual(await two.readMany(VIEW_A1, ["1001"]), [undefined]);
        assert.equal((await two.writeBatch(VIEW_A1, [row("1001", T0 + 1, T0, '{"project":"rides_2"}')])).length, 1, "an older row in another project is applied");
        assert.deepEqual((await one.readMany(VIEW_A1, ["1001"])).map((r) => r?.values), ['{"project":"rides"}']);
        assert.deepEqual((await two.readMany(VIEW_A1, ["1001"])).map((r) => r?.values), ['{"project":"rides_2"}']);
        assert.equal(await two.delete(VIEW_A1, ["1001"]), 1);
        assert.deepEqual((await one.readMany(VIEW_A1, ["1001"])).map((r) => r?.values), ['{"project":"rides"}']);
        await one.materializations.save(job(VIEW_A1, 0, 10, "done"));
        assert.equal(await two.materializations.find(VIEW_A1, 0, 10), undefined);
        assert.equal(await two.materializations.lastEnd(VIEW_A1), undefined);
      });

      it("delete returns how many records it removed and removes only those", async () => {
        const store = stores.store("p");
        const keys = ["k1", "k2", "k3", "k4", "k5"];
        await store.writeBatch(VIEW_A1, keys.map((k) => row(k, T0 + 10, T0)));
        await store.writeBatch(VIEW_A2, keys.map((k) => row(k, T0 + 10, T0)));
        assert.equal(await store.delete(VIEW_A1, ["k1", "k3", "absent", "k1"]), 2, "absent and repeated keys count nothing");
        assert.deepEqual((await store.readMany(VIEW_A1, keys)).map((r) => r?.entityKey), [undefined, "k2", undefined, "k4", "k5"]);
        assert.deepEqual((await store.readMany(VIEW_A2, keys)).map((r) => r?.entityKey), keys, "the other version is untouched");
        assert.equal(await store.delete(VIEW_A1, ["k1", "k3"]), 0, "deleting again removes nothing");
        assert.equal(await store.delete(VIEW_A1, []), 0);
        assert.equal(await store.delete(VIEW_B1, keys), 0, "nothing of another view is removed");
        assert.equal((await store.writeBatch(VIEW_A1, [row("k1", T0 + 10, T0)])).length, 1, "a deleted key can be written again");
      });

      it("erase replaces records with tombstones whatever they hold, counts those that held values, and keeps the later boundary", async () => {
        const store = stores.store("p");
        const future = T0 + 1_000_000_000;
        await store.writeBatch(VIEW_A1, [row("k1", T0 + 10, T0), row("k2", future, T0), row("k3", T0 + 10, T0)]);
        const first = await store.erase(VIEW_A1, ["k1", "k2", "absent", "k1"], T0 + 100);
        assert.equal(first.removed, 2, "k1 and k2 held values (k2's event time is past the boundary: still erased); absent and repeated keys count nothing");
        assert.deepEqual(first.tombstones.map((t) => t.entityKey).sort(), ["absent", "k1", "k2"], "an absent key gets a tombstone too: it blocks a write in flight");
        const [k1, k2, k3, absent] = await store.readMany(VIEW_A1, ["k1", "k2", "k3", "absent"]);
        for (const t of [k1, k2, absent]) {
          assert.ok(t !== undefined && isTombstone(t) && t.eventTs === T0 + 100 && t.createdTs === TOMBSTONE_CREATED_TS);
        }
        assert.equal(k3?.values, valuesOf("k3", T0 + 10, T0), "other keys untouched");
        assert.ok(k1!.writeTs > 0);
        // A row from at or before the boundary (a replay, a racing materialization) is refused; a newer one replaces the tombstone.
        assert.equal((await store.writeBatch(VIEW_A1, [row("k1", T0 + 100, T0 + 5), row("absent", T0 + 50, T0)])).length, 0);
        const revived = await store.writeBatch(VIEW_A1, [row("k1", T0 + 101, T0)]);
        assert.equal(revived.length, 1);
        assert.ok(revived[0]!.writeTs > k1!.writeTs, "the write time keeps rising past the tombstone's");
        const again = await store.erase(VIEW_A1, ["absent"], T0 + 50);
        assert.deepEqual(again, { tombstones: [], removed: 0 }, "an older boundary does not replace a later tombstone");
        const repeat = await store.erase(VIEW_A1, ["k2"], T0 + 100);
        assert.equal(repeat.removed, 0, "erasing again removes nothing");
        assert.ok(repeat.tombstones[0]!.writeTs > k2!.writeTs, "but renews the tombstone's write time (for the cache)");
        assert.deepEqual(await store.erase(VIEW_A1, [], T0), { tombstones: [], removed: 0 });
      });

      it("listKeys pages through one view version's keys in byte order", async () => {
        const store = stores.store("p");
        await store.writeBatch(VIEW_A1, AWKWARD_KEYS.map((k) => row(k, T0, T0)));
        await store.writeBatch(VIEW_A2, [row("other", T0, T0)]);
        const seen: string[] = [];
        for (let after: string | null = null; ; ) {
          const page = await store.listKeys(VIEW_A1, after, 4);
          seen.push(...page);
          if (page.length < 4) break;
          after = page.at(-1)!;
        }
        assert.deepEqual(seen, [...AWKWARD_KEYS].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
      });

      it("teardown(view) removes only that view version; teardown() the whole project and nothing of another", async () => {
        const store = stores.store("p");
        const other = stores.store("q");
        const keys = ["1", "2", "3"];
        for (const view of [VIEW_A1, VIEW_A2, VIEW_B1]) {
          await store.writeBatch(view, keys.map((k) => row(k, T0 + 1, T0)));
          await other.writeBatch(view, keys.map((k) => row(k, T0 + 1, T0)));
        }
        const count = async (s: OnlineStore, view: ViewRef): Promise<number> => (await s.readMany(view, keys)).filter((r) => r !== undefined).length;

        await store.teardown(VIEW_A1);
        assert.deepEqual([await count(store, VIEW_A1), await count(store, VIEW_A2), await count(store, VIEW_B1)], [0, 3, 3]);
        assert.deepEqual([await count(other, VIEW_A1), await count(other, VIEW_A2), await count(other, VIEW_B1)], [3, 3, 3]);

        await store.teardown();
        assert.deepEqual([await count(store, VIEW_A1), await count(store, VIEW_A2), await count(store, VIEW_B1)], [0, 0, 0]);
        assert.deepEqual([await count(other, VIEW_A1), await count(other, VIEW_A2), await count(other, VIEW_B1)], [3, 3, 3], "another project keeps everything");

        assert.equal((await store.writeBatch(VIEW_A2, [row("1", T0, T0)])).length, 1, "a torn-down view can be written again, with any times");
      });
    });

    describe("materialization log", () => {
      it("finds a saved job exactly, updates it in place on save, and keeps different windows apart", async () => {
        const store = stores.store("p");
        const log = store.materializations;
        assert.equal(await log.find(VIEW_A1, T0, T0 + 3_600_000_000), undefined);
        const running = job(VIEW_A1, T0, T0 + 3_600_000_000, "running", { resumeAfter: "O'Brien|1001", rows: 5000, updatedAt: "2024-05-01T12:00:00.123Z" });
        await log.save(running);
        assert.deepEqual(await log.find(VIEW_A1, T0, T0 + 3_600_000_000), running);
        assert.equal(await log.find(VIEW_A1, T0, T0 + 3_600_000_001), undefined, "the window must match exactly");
        assert.equal(await log.find(VIEW_A2, T0, T0 + 3_600_000_000), undefined, "another version has no job");
        assert.equal(await log.find(VIEW_B1, T0, T0 + 3_600_000_000), undefined, "another view has no job");

        const done = { ...running, status: "done" as const, resumeAfter: null, rows: 12_345, updatedAt: "2024-05-01T12:05:00.000Z" };
        await log.save(done);
        assert.deepEqual(await log.find(VIEW_A1, T0, T0 + 3_600_000_000), done, "a second save of the same window updates it");

        const next = job(VIEW_A1, T0 + 3_600_000_000, T0 + 7_200_000_000, "running");
        await log.save(next);
        assert.deepEqual(await log.find(VIEW_A1, T0, T0 + 3_600_000_000), done);
        assert.deepEqual(await log.find(VIEW_A1, T0 + 3_600_000_000, T0 + 7_200_000_000), next);
      });

      it("lastEnd is the largest end of the completed runs only, per view version", async () => {
        const store = stores.store("p");
        const log = store.materializations;
        assert.equal(await log.lastEnd(VIEW_A1), undefined, "nothing run yet");
        await log.save(job(VIEW_A1, T0, T0 + 100, "running"));
        assert.equal(await log.lastEnd(VIEW_A1), undefined, "a running job does not count");
        await log.save(job(VIEW_A1, T0, T0 + 100, "done"));
        assert.equal(await log.lastEnd(VIEW_A1), T0 + 100);
        await log.save(job(VIEW_A1, T0 + 100, T0 + 300, "done"));
        await log.save(job(VIEW_A1, T0 + 50, T0 + 200, "done")); // saved later, ends earlier
        assert.equal(await log.lastEnd(VIEW_A1), T0 + 300, "the max end, not the last saved");
        await log.save(job(VIEW_A1, T0 + 300, T0 + 999, "running"));
        assert.equal(await log.lastEnd(VIEW_A1), T0 + 300, "a later running job does not count");
        await log.save(job(VIEW_A2, T0, T0 + 5000, "done"));
        await log.save(job(VIEW_B1, T0, T0 + 6000, "done"));
        assert.equal(await log.lastEnd(VIEW_A1), T0 + 300, "other versions and views do not count");
        assert.equal(await log.lastEnd(VIEW_A2), T0 + 5000);
        assert.equal(await log.lastEnd(VIEW_B1), T0 + 6000);
      });
    });

    describe("stream checkpoints", () => {
      it("commits state rows, the checkpoint and dead letters together; counts dead letters across commits; keeps consumers and projects apart", async () => {
        const store = stores.store("p");
        assert.equal(await store.loadCheckpoint("c1"), undefined);
        const applied = await store.commitCheckpoint(VIEW_A1, [row("k1", T0, 1), row("k2", T0, 1)], { consumer: "c1", seq: 10, watermark: T0 - 5, deadLetters: [{ seq: 4, reason: "late", payload: "{}" }] });
        assert.deepEqual(applied.map(withoutWriteTs).sort(byKey), [row("k1", T0, 1), row("k2", T0, 1)]);
        assert.deepEqual(await store.loadCheckpoint("c1"), { seq: 10, watermark: T0 - 5, deadLetters: 1 });
        const again = await store.commitCheckpoint(VIEW_A1, [row("k1", T0, 1), row("k1", T0, 2)], { consumer: "c1", seq: 12, watermark: T0, deadLetters: [{ seq: 11, reason: "late", payload: "{}" }, { seq: 12, reason: "late", payload: "{}" }] });
        assert.deepEqual(again.map(withoutWriteTs), [row("k1", T0, 2)], "compare-and-set as writeBatch: the equal pair is skipped, the newer applied");
        assert.deepEqual(await store.loadCheckpoint("c1"), { seq: 12, watermark: T0, deadLetters: 3 });
        assert.equal(await store.loadCheckpoint("c2"), undefined);
        assert.equal(await stores.store("q").loadCheckpoint("c1"), undefined);
        assert.deepEqual((await store.readMany(VIEW_A1, ["k1"]))[0]?.createdTs, 2);
        assert.equal(again[0]?.writeTs, (await store.readMany(VIEW_A1, ["k1"]))[0]?.writeTs, "the write time returned is the one stored (cache populates are ordered by it)");
        assert.deepEqual([...(await store.deadLetterSeqs("c1", 5, 12))].sort((a, b) => a - b), [11, 12]);
        assert.deepEqual([...(await store.deadLetterSeqs("c2", 0, 100))], []);
      });

      it("stores sealed tiles apart from their state row: written only with a row that applies, read with it, removed by erase, delete and teardown", async () => {
        const store = stores.store("p");
        const checkpoint = (seq: number) => ({ consumer: "c4", seq, watermark: T0, deadLetters: [] });
        const sealedOf = (key: string, n: number): string => `@${n};sealed ${key} ${n} ${"z".repeat(n === 2 ? 50_000 : 10)}`;
        const keys = ["k1", ...AWKWARD_KEYS];
        await store.commitCheckpoint(VIEW_A1, keys.map((k) => ({ ...row(k, T0, 1), sealed: sealedOf(k, 1) })), checkpoint(1));
        await store.commitCheckpoint(VIEW_A2, [{ ...row("k1", T0, 1), sealed: sealedOf("k1", 9) }], checkpoint(2));
        assert.deepEqual((await store.readStates(VIEW_A1, [...keys, "absent"])).map((r) => r?.sealed), [...keys.map((k) => sealedOf(k, 1)), undefined]);
        assert.deepEqual((await store.readMany(VIEW_A1, ["k1"]))[0], withoutSealed((await store.readStates(VIEW_A1, ["k1"]))[0]!), "readMany: the same record, without the sealed tiles");
        // A row without sealed tiles keeps the stored ones; a row that does not apply (older) writes none.
        await store.commitCheckpoint(VIEW_A1, [row("k1", T0, 2), { ...row("O'Brien", T0, 0), sealed: sealedOf("O'Brien", 7) }], checkpoint(3));
        const [k1, obrien] = await store.readStates(VIEW_A1, ["k1", "O'Brien"]);
        assert.deepEqual([k1?.createdTs, k1?.sealed, obrien?.createdTs, obrien?.sealed], [2, sealedOf("k1", 1), 1, sealedOf("O'Brien", 1)]);
        await store.commitCheckpoint(VIEW_A1, [{ ...row("k1", T0, 3), sealed: sealedOf("k1", 2) }], checkpoint(4));
        assert.equal((await store.readStates(VIEW_A1, ["k1"]))[0]?.sealed, sealedOf("k1", 2), "replaced, byte for byte");
        await store.erase(VIEW_A1, ["k1"], T0);
        const [erased] = await store.readStates(VIEW_A1, ["k1"]);
        assert.ok(erased !== undefined && isTombstone(erased) && erased.sealed === undefined, "erase leaves a tombstone and no sealed tiles");
        assert.equal(await store.delete(VIEW_A1, ["O'Brien"]), 1);
        await store.commitCheckpoint(VIEW_A1, [row("O'Brien", T0, 5)], checkpoint(5));
        assert.equal((await store.readStates(VIEW_A1, ["O'Brien"]))[0]?.sealed, undefined, "delete removed the sealed tiles too");
        await store.teardown(VIEW_A1);
        await store.commitCheckpoint(VIEW_A1, keys.map((k) => row(k, T0, 6)), checkpoint(6));
        assert.deepEqual((await store.readStates(VIEW_A1, keys)).map((r) => r?.sealed), keys.map(() => undefined), "teardown of the version removed its sealed tiles");
        assert.equal((await store.readStates(VIEW_A2, ["k1"]))[0]?.sealed, sealedOf("k1", 9), "another version's stay");
        await store.teardown();
        await store.commitCheckpoint(VIEW_A2, [row("k1", T0, 7)], checkpoint(7));
        assert.equal((await store.readStates(VIEW_A2, ["k1"]))[0]?.sealed, undefined, "teardown of the project removed all");
      });

      it("pages through a consumer's dead letters in order, and redacts payloads keeping the rows", async () => {
        const store = stores.store("p");
        const letters = Array.from({ length: 7 }, (_, i) => ({ seq: 20 + i * 3, reason: `late ${i}`, payload: `{"card":${i}}` }));
        await store.commitCheckpoint(VIEW_A1, [], { consumer: "c3", seq: 40, watermark: T0, deadLetters: letters.slice(0, 4) });
        await store.commitCheckpoint(VIEW_A1, [], { consumer: "c3", seq: 50, watermark: T0, deadLetters: letters.slice(4) });
        await stores.store("q").commitCheckpoint(VIEW_A1, [], { consumer: "c3", seq: 50, watermark: T0, deadLetters: [{ seq: 21, reason: "other project", payload: "x" }] });
        const pages: number[][] = [];
        for (let after = 0; ; ) {
          const page = await store.deadLetters("c3", after, 3);
          if (page.length === 0) break;
          pages.push(page.map((d) => d.seq));
          after = page.at(-1)!.seq;
        }
        assert.deepEqual(pages, [[20, 23, 26], [29, 32, 35], [38]], "pages of 3 after the last sequence seen; the other project's letter is not among them");
        const [first] = await store.deadLetters("c3", 0, 1);
        assert.deepEqual({ ...first, recordedAt: undefined }, { ...letters[0], recordedAt: undefined });
        assert.ok(Math.abs(Date.parse(first!.recordedAt) - Date.now()) < 60_000, `recorded now: ${first!.recordedAt}`);
        assert.equal(await store.redactDeadLetters("c3", [23, 29, 99], "!gone"), 2, "unknown sequences change nothing");
        assert.equal(await store.redactDeadLetters("c3", [23], "!gone"), 0, "a payload already redacted is not counted again");
        assert.deepEqual((await store.deadLetters("c3", 0, 10)).map((d) => d.payload), ['{"card":0}', "!gone", '{"card":2}', "!gone", '{"card":4}', '{"card":5}', '{"card":6}']);
        assert.deepEqual([...(await store.deadLetterSeqs("c3", 0, 100))].sort((a, b) => a - b), [20, 23, 26, 29, 32, 35, 38], "the rows stay: a replay still skips them");
        assert.deepEqual((await stores.store("q").deadLetters("c3", 0, 10)).map((d) => d.payload), ["x"]);
      });
    });

    describe("concurrency", () => {
      it("many concurrent batches on one instance end with the newest row of every key", async () => {
        const store = stores.store("p");
        for (let round = 0; round < 3; round++) {
          await store.teardown();
          const batches = randomBatches(40, 25, 30).map((b) => shuffle(b));
          const results = await Promise.all(batches.map((b) => store.writeBatch(VIEW_A1, b)));
          await checkConcurrentOutcome(store, batches, results);
        }
      });

      it("concurrent batches from two instances on the same place end with the newest row of every key", async () => {
        const one = stores.store("p");
        const two = stores.store("p");
        await Promise.all([one.readMany(VIEW_A1, ["warm-up"]), two.readMany(VIEW_A1, ["warm-up"])]);
        for (let round = 0; round < 3; round++) {
          await one.teardown();
          const batches = randomBatches(40, 25, 30);
          const results = await Promise.all(batches.map((b, i) => (i % 2 === 0 ? one : two).writeBatch(VIEW_A1, b)));
          await checkConcurrentOutcome(two, batches, results);
          await checkConcurrentOutcome(one, batches, results);
        }
      });

      it("concurrent batches that write the same keys in opposite orders all succeed", async () => {
        const one = stores.store("p");
        const two = stores.store("p");
        const keys = Array.from({ length: 200 }, (_, i) => `key-${String(i).padStart(3, "0")}`);
        for (let round = 0; round < 4; round++) {
          // Round 0 inserts the keys, later rounds update them: both must take row locks in an order that cannot deadlock.
          const batches: OnlineWrite[][] = [];
          for (let i = 0; i < 16; i++) {
            const ordered = i % 2 === 0 ? keys : [...keys].reverse();
            batches.push(ordered.map((k) => row(k, T0 + round * 1000 + randomInt(1000), T0 + randomInt(3))));
          }
          const results = await Promise.all(batches.map((b, i) => (i % 4 < 2 ? one : two).writeBatch(VIEW_A1, b)));
          await checkConcurrentOutcome(one, batches, results);
        }
      });
    });
  });
}
