import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { aggregationView, batchSource, collectDefinitions, compileDefinitions, entity, Float64, Int64, String as StringType } from "../../src/index.js";
import type { FeatureStore } from "../../src/feature-store.js";
import { toCsv } from "../helpers/csv.js";
import { buildSnapshot } from "../../src/online/snapshot/build-snapshot.js";
import { openProject } from "../helpers/project.js";
import { parseSubject } from "../../src/erasure/subject.js";

const at = (hhmmss: string): string => `2024-03-10T${hhmmss}Z`;

/** The window contract at its edges, on fixed events: `floor((t - W) / H) * H <= ts < t`. */
describe("aggregation windows at their edges", () => {
  let store: FeatureStore;
  let dir: string;
  /** A path in the view version's offline folder. */
  const inVersion = (...parts: string[]): string => join(store.config.offline.path, "tx", "v1", ...parts);
  const read = async (labels: { card_id: number; t: string }[], asOfIngestion = false): Promise<Record<string, unknown>[]> => {
    const set = await store.getHistoricalFeatures({
      entities: labels.map((l) => ({ card_id: l.card_id, event_timestamp: new Date(l.t) })),
      features: ["tx:count_10m", "tx:amount_sum_10m", "tx:amount_max_10m", "tx:merchant_last_10m", "tx:amount_mean_10m"],
      asOfIngestion,
    });
    const rows = await set.toRows();
    await set.close();
    return rows;
  };

  before(async () => {
    ({ dir, store } = await openProject());
    const card = entity({ name: "card", joinKeys: ["card_id"], valueType: Int64 });
    const view = aggregationView({
      name: "tx",
      entities: [card],
      schema: { amount: Float64, merchant: StringType },
      source: batchSource({ path: "tx.csv", timestampField: "ts", createdTimestampField: "created" }),
      aggregations: [
        { column: "*", function: "count", window: "10m" },
        ...(["sum", "max", "mean"] as const).map((fn) => ({ column: "amount", function: fn, window: "10m" })),
        { column: "merchant", function: "last", window: "10m" },
      ],
    });
    await store.apply(compileDefinitions(collectDefinitions({ view })));
    const rows = [
      { card_id: 1, ts: at("10:00:00"), created: at("10:00:00"), amount: 1, merchant: "start" }, // exactly at a window start
      { card_id: 1, ts: at("09:59:59.999"), created: at("10:00:00"), amount: 100, merchant: "before" }, // 1 ms before it
      { card_id: 1, ts: at("10:07:30"), created: at("10:07:30"), amount: 2, merchant: "a" },
      { card_id: 1, ts: at("10:07:30"), created: at("10:07:31"), amount: 3, merchant: "b" }, // same time, created later: the last
      { card_id: 1, ts: at("10:07:45"), created: at("10:07:45"), amount: null, merchant: null }, // nulls are skipped, but counted by count(*)
      { card_id: 1, ts: at("10:08:00"), created: at("10:30:00"), amount: 50, merchant: "late" }, // arrives late
      { card_id: 2, ts: at("10:01:00"), created: at("10:01:00"), amount: 7, merchant: "x" },
    ];
    await writeFile(join(dir, "tx.csv"), toCsv(["card_id", "ts", "created", "amount", "merchant"], rows));
    await store.ingest("tx");
  });
  after(() => store.close());

  it("counts an event exactly at the window start and not one a millisecond before; excludes events at t", async () => {
    // t = 10:08:00: W = 10m, H = 5m → start floor(09:58 / 5m) = 09:55; so 09:59:59.999 counts.
    const [early, late] = await read([
      { card_id: 1, t: at("10:08:00") },
      { card_id: 1, t: at("10:10:00") }, // start 10:00:00 exactly: the 09:59:59.999 event is out
    ]);
    assert.deepEqual(early, { card_id: 1, event_timestamp: early!.event_timestamp, count_10m: 5, amount_sum_10m: 106, amount_max_10m: 100, merchant_last_10m: "b", amount_mean_10m: 26.5 });
    assert.equal(late!.count_10m, 5);
    assert.equal(late!.amount_sum_10m, 56);
    assert.equal(late!.merchant_last_10m, "late");
  });

  it("reads a head tile only up to t, and the events at t not at all", async () => {
    const [row] = await read([{ card_id: 1, t: at("10:07:30") }]);
    assert.equal(row!.count_10m, 2, "09:59:59.999 and 10:00:00; both 10:07:30 events are at t");
    assert.equal(row!.merchant_last_10m, "start");
  });

  it("gives count 0 and nulls for an empty window, and for an unknown key", async () => {
    const rows = await read([
      { card_id: 2, t: at("10:30:00") },
      { card_id: 9, t: at("10:05:00") },
    ]);
    for (const row of rows) {
      assert.equal(row.count_10m, 0);
      assert.equal(row.amount_sum_10m, null);
      assert.equal(row.amount_max_10m, null);
      assert.equal(row.merchant_last_10m, null);
      assert.equal(row.amount_mean_10m, null);
    }
  });

  it("as of ingestion, leaves out events that had not arrived by t", async () => {
    const [row] = await read([{ card_id: 1, t: at("10:10:00") }], true);
    assert.equal(row!.count_10m, 4, "the 10:08:00 event arrived at 10:30");
    assert.equal(row!.amount_sum_10m, 6);
    assert.equal(row!.merchant_last_10m, "b");
  });

  it("backfills incrementally: only dates with new events are rebuilt, and training sets see them", async () => {
    const first = await store.backfill("tx");
    assert.equal(first.dates, 0, "the training sets above already brought the tiles up to date");
    await writeFile(join(dir, "more.csv"), toCsv(["card_id", "ts", "created", "amount", "merchant"], [{ card_id: 2, ts: at("10:20:00"), created: at("10:20:00"), amount: 5, merchant: "y" }, { card_id: 2, ts: "2024-03-12T08:00:00Z", created: "2024-03-12T08:00:00Z", amount: 6, merchant: "z" }]));
    await store.ingest("tx", { file: join(dir, "more.csv") });
    // A killed backfill's scratch folder (its pid is gone) holds blocks no pack was built from.
    const tiles = inVersion("_tiles");
    const killed = `.blocks-${spawnSync(process.execPath, ["-e", "0"]).pid}-x`;
    await mkdir(join(tiles, killed, "date=2024-03-10"), { recursive: true });
    await writeFile(join(tiles, killed, "date=2024-03-10", "blocks.duckdb"), "partial");
    const second = await store.backfill("tx");
    assert.deepEqual((await readdir(tiles)).sort(), ["months", "state.json"], "the killed backfill's scratch folder is removed, and this one's too");
    assert.equal(second.dates, 4, "2024-03-10 and 2024-03-12, and the days after each (their windows from before midnight copy them)");
    assert.equal((await store.backfill("tx")).dates, 0);
    const [row] = await read([{ card_id: 2, t: at("10:29:59") }]);
    assert.equal(row!.amount_sum_10m, 5);
    await assert.rejects(store.backfill("nope"), /aggregation view "nope"/);
  });

  it("waits for a backfill another process runs, and clears what any earlier one left once it holds the lock", async () => {
    const version = inVersion();
    const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 1500)"]);
    const exited = new Promise((resolve) => holder.once("exit", resolve));
    await writeFile(join(version, "_tiles.lock"), String(holder.pid));
    // A scratch folder named by a live pid (this one: as after pid reuse) is still a leftover to the lock holder.
    await mkdir(join(version, "_tiles", `.blocks-${process.pid}-stale`, "date=2024-03-10"), { recursive: true });
    await writeFile(join(version, "_tiles", "months", "month=2024-03", `.blocks-${process.pid}-1.duckdb`), "partial");
    let finished = false;
    const backfill = store.backfill("tx").then(() => (finished = true));
    await exited;
    assert.equal(finished, false, "it waited while the lock's owner ran");
    await backfill;
    assert.deepEqual((await readdir(join(version, "_tiles"))).sort(), ["months", "state.json"]);
    assert.deepEqual(await readdir(join(version, "_tiles", "months", "month=2024-03")), ["blocks.duckdb"]);
    await assert.rejects(stat(join(version, "_tiles.lock")), { code: "ENOENT" }, "released");
  });

  it("rebuilds every block when a month's pack was lost since the last backfill", async () => {
    const pack = inVersion("_tiles", "months", "month=2024-03", "blocks.duckdb");
    await rm(pack);
    assert.equal((await store.backfill("tx")).dates, 4, "all of them: 2024-03-10 and 2024-03-12, and the day after each");
    await stat(pack);
    // Tiles of commits the event log no longer has (an older log restored beside newer tiles).
    const state = inVersion("_tiles", "state.json");
    await writeFile(state, JSON.stringify({ ...(JSON.parse(await readFile(state, "utf8")) as object), seq: 999 }));
    assert.equal((await store.backfill("tx")).dates, 4, "rebuilt from the log as it is");
    const [row] = await read([{ card_id: 1, t: at("10:10:00") }]);
    assert.equal(row!.amount_sum_10m, 56);
  });

  it("packs each month's blocks, and drops a month's pack once every event of the month is erased", async () => {
    const pack = inVersion("_tiles", "months", "month=2024-04", "blocks.duckdb");
    const april = (hhmmss: string): string => `2024-04-15T${hhmmss}Z`;
    await writeFile(join(dir, "april.csv"), toCsv(["card_id", "ts", "created", "amount", "merchant"], [{ card_id: 9, ts: april("10:00:00"), created: april("10:00:00"), amount: 4, merchant: "m" }]));
    await store.ingest("tx", { file: join(dir, "april.csv") });
    const label = { entities: [{ card_id: 9, event_timestamp: new Date(april("10:05:00")) }, { card_id: 1, event_timestamp: new Date(at("10:10:00")) }], features: ["tx:count_10m", "tx:amount_sum_10m"] };
    const before = await store.getHistoricalFeatures(label);
    assert.deepEqual((await before.toRows()).map((r) => [r.count_10m, r.amount_sum_10m]), [[1, 4], [5, 56]], "a label in April reads April's pack, one in March March's");
    await before.close();
    await stat(pack);

    await store.erase({ subject: parseSubject(["card_id=9"]) });
    await assert.rejects(stat(pack), { code: "ENOENT" }, "April had no other events: its pack is gone");
    const after = await store.getHistoricalFeatures(label);
    assert.deepEqual((await after.toRows()).map((r) => [r.count_10m, r.amount_sum_10m]), [[0, null], [5, 56]]);
    await after.close();
  });

  it("is not materialized (its online state comes from its events), and its snapshot defaults are an empty window's", async () => {
    await assert.rejects(store.materialize({ views: ["tx"] }), /"tx" is an aggregation view/);
    assert.deepEqual(await store.materialize(), [], "skipped when materializing every view");
    const file = await buildSnapshot(await store.engine(), store.config.offline.path, await store.snapshot(), join(dir, "snapshot.json"));
    assert.deepEqual(file.features["tx:count_10m"], { type: "Int64", value: 0, source: "empty-window" });
    assert.deepEqual(file.features["tx:amount_sum_10m"], { type: "Float64", value: null, source: "none" });
  });
});
