import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FeatureStore } from "../../src/feature-store.js";
import { applyViews, driverView, ingestRows } from "../helpers/fixtures.js";
import { openProject } from "../helpers/project.js";

/** Hand-checked cases of the point-in-time contract, one rule each (the property test covers mixtures). */
describe("point-in-time retrieval: fixed cases", () => {
  let store: FeatureStore;
  let n = 0;
  before(async () => ({ store } = await openProject()));
  after(() => store.close());

  async function values(view: string, entities: { driver_id: number; t: string }[], options: { inclusive?: boolean; asOfIngestion?: boolean } = {}): Promise<unknown[]> {
    const set = await store.getHistoricalFeatures({
      // ISO strings rather than Dates: a JS Date cannot carry microseconds.
      entities: entities.map((e) => ({ driver_id: e.driver_id, event_timestamp: e.t })),
      features: [`${view}:value`],
      ...options,
    });
    const rows = await set.toRows();
    await set.close();
    return rows.map((r) => r.value);
  }

  /** Applies fresh views (apply is declarative: views applied earlier are removed). */
  async function view(ttl?: string): Promise<string> {
    return (await views(1, ttl))[0]!;
  }

  async function views(count: number, ttl?: string): Promise<string[]> {
    const names = Array.from({ length: count }, () => `v${++n}`);
    await applyViews(store, names.map((name) => driverView(name, ttl)));
    return names;
  }

  it("takes the latest row strictly before the entity time; inclusive takes the row exactly at it", async () => {
    const v = await view();
    await ingestRows(store, v, [
      { driver_id: 1, ts: "2024-01-01T10:00:00Z", value: 1 },
      { driver_id: 1, ts: "2024-01-01T11:00:00Z", value: 2 },
    ]);
    const at11 = [{ driver_id: 1, t: "2024-01-01T11:00:00Z" }];
    assert.deepEqual(await values(v, at11), [1]);
    assert.deepEqual(await values(v, at11, { inclusive: true }), [2]);
    assert.deepEqual(await values(v, [{ driver_id: 1, t: "2024-01-01T10:00:00Z" }]), [null], "nothing strictly before the first row");
    assert.deepEqual(await values(v, [{ driver_id: 1, t: "2024-01-01T10:00:00.000001Z" }]), [1], "one microsecond later the row counts");
  });

  it("breaks ties on event time by the greatest created time, also across ingestions", async () => {
    const v = await view();
    await ingestRows(store, v, [{ driver_id: 1, ts: "2024-01-01T10:00:00Z", created: "2024-01-01T12:00:00Z", value: 10 }], "a");
    await ingestRows(store, v, [{ driver_id: 1, ts: "2024-01-01T10:00:00Z", created: "2024-01-01T11:00:00Z", value: 20 }], "b");
    assert.deepEqual(await values(v, [{ driver_id: 1, t: "2024-01-02T00:00:00Z" }]), [10]);
  });

  it("counts a row exactly at t - ttl and drops one a microsecond older", async () => {
    const v = await view("1h");
    await ingestRows(store, v, [{ driver_id: 1, ts: "2024-01-01T10:00:00Z", value: 5 }]);
    assert.deepEqual(await values(v, [{ driver_id: 1, t: "2024-01-01T11:00:00Z" }]), [5]);
    assert.deepEqual(await values(v, [{ driver_id: 1, t: "2024-01-01T11:00:00.000001Z" }]), [null]);
  });

  it("does not fall back to an older row when the latest one is outside the ttl", async () => {
    const v = await view("1h");
    await ingestRows(store, v, [
      { driver_id: 1, ts: "2024-01-01T08:00:00Z", value: 1 },
      { driver_id: 1, ts: "2024-01-01T09:00:00Z", value: 2 },
    ]);
    assert.deepEqual(await values(v, [{ driver_id: 1, t: "2024-01-01T09:30:00Z" }, { driver_id: 1, t: "2024-01-01T12:00:00Z" }]), [2, null]);
  });

  it("returns a stored null as null, not an older non-null value", async () => {
    const v = await view();
    await ingestRows(store, v, [
      { driver_id: 1, ts: "2024-01-01T08:00:00Z", value: 1 },
      { driver_id: 1, ts: "2024-01-01T09:00:00Z", value: null },
    ]);
    assert.deepEqual(await values(v, [{ driver_id: 1, t: "2024-01-01T10:00:00Z" }]), [null]);
  });

  it("as of ingestion ignores rows created after the entity time", async () => {
    const v = await view();
    await ingestRows(store, v, [
      { driver_id: 1, ts: "2024-01-01T08:00:00Z", created: "2024-01-01T08:05:00Z", value: 1 },
      { driver_id: 1, ts: "2024-01-01T09:00:00Z", created: "2024-01-01T15:00:00Z", value: 2 }, // a late correction
    ]);
    const at10 = [{ driver_id: 1, t: "2024-01-01T10:00:00Z" }];
    assert.deepEqual(await values(v, at10), [2]);
    assert.deepEqual(await values(v, at10, { asOfIngestion: true }), [1]);
    assert.deepEqual(await values(v, [{ driver_id: 1, t: "2024-01-01T15:00:00Z" }], { asOfIngestion: true }), [2], "created exactly at t counts");
  });

  it("keeps every entity row once, in input order, duplicates included, with unknown keys null", async () => {
    const v = await view();
    await ingestRows(store, v, [
      { driver_id: 1, ts: "2024-01-01T08:00:00Z", value: 1 },
      { driver_id: 2, ts: "2024-01-01T08:00:00Z", value: 2 },
    ]);
    const entities = [2, 1, 2, 99, 1].map((id) => ({ driver_id: id, t: "2024-01-01T09:00:00Z" }));
    assert.deepEqual(await values(v, entities), [2, 1, 2, null, 1]);
  });

  it("keeps input order for an entity file larger than one DuckDB row group (parallel scans)", async () => {
    const v = await view();
    await ingestRows(store, v, [{ driver_id: 1, ts: "2024-01-01T08:00:00Z", value: 1 }]);
    const labels = join(store.config.projectDir, "many-labels.parquet");
    const engine = await store.engine();
    // Shuffled ids and times, so neither the key nor the time order matches the input order.
    await engine.run(`COPY (SELECT i AS label_id, hash(i) % 7 AS driver_id, TIMESTAMPTZ '2024-01-01 09:00:00+00' - to_seconds((hash(i * 31) % 7200)::BIGINT) AS event_timestamp FROM range(300000) t(i)) TO '${labels}' (FORMAT parquet)`);
    const set = await store.getHistoricalFeatures({ entities: labels, features: [`${v}:value`] });
    const out = join(store.config.projectDir, "many-out.parquet");
    await set.write(out);
    await set.close();
    const [check] = await engine.rows(`SELECT count(*) AS n, count(*) FILTER (WHERE label_id <> file_row_number) AS misplaced FROM read_parquet('${out}', file_row_number = true)`);
    assert.deepEqual([check?.n, check?.misplaced], [300000n, 0n]);
  });

  it("answers with nulls for a view that has no data yet, and with no rows for no entity rows", async () => {
    const v = await view();
    assert.deepEqual(await values(v, [{ driver_id: 1, t: "2024-01-01T09:00:00Z" }]), [null]);
    await ingestRows(store, v, [{ driver_id: 1, ts: "2024-01-01T08:00:00Z", value: 1 }]);
    const empty = join(store.config.projectDir, "no-entities.csv");
    await writeFile(empty, "driver_id,event_timestamp,label\n");
    const set = await store.getHistoricalFeatures({ entities: empty, features: [`${v}:value`] });
    assert.equal(set.rowCount, 0);
    assert.deepEqual(set.columns.map((c) => c.name), ["driver_id", "event_timestamp", "label", "value"]);
    await set.close();
  });

  it("rejects requests that name unknown views or features, or lack the join key or time column", async () => {
    const v = await view();
    const entities = [{ driver_id: 1, event_timestamp: new Date() }];
    await assert.rejects(store.getHistoricalFeatures({ entities, features: ["nope:value"] }), { code: "NOT_FOUND", message: /feature view "nope"/ });
    await assert.rejects(store.getHistoricalFeatures({ entities, features: [`${v}:nope`] }), { code: "NOT_FOUND", message: /has value, count/ });
    await assert.rejects(store.getHistoricalFeatures({ entities: [{ id: 1, event_timestamp: new Date() }], features: [`${v}:value`] }), { code: "REQUEST_INVALID", message: /join key "driver_id"/ });
    await assert.rejects(store.getHistoricalFeatures({ entities: [{ driver_id: 1, at: new Date() }], features: [`${v}:value`] }), { code: "REQUEST_INVALID", message: /timestamp column "event_timestamp"/ });
    await assert.rejects(store.getHistoricalFeatures({ entities: [{ driver_id: "x", event_timestamp: new Date() }], features: [`${v}:value`] }), { code: "REQUEST_INVALID", message: /Int64 join keys/ });
  });

  it("refuses output names that collide unless full feature names are asked for", async () => {
    const [a, b] = (await views(2)) as [string, string];
    const entities = [{ driver_id: 1, event_timestamp: new Date("2024-01-02T00:00:00Z") }];
    await assert.rejects(store.getHistoricalFeatures({ entities, features: [`${a}:value`, `${b}:value`] }), { code: "REQUEST_INVALID", message: /full feature names/ });
    const set = await store.getHistoricalFeatures({ entities, features: [`${a}:value`, `${b}:value`], fullFeatureNames: true });
    assert.deepEqual(set.columns.map((c) => c.name), ["driver_id", "event_timestamp", `${a}__value`, `${b}__value`]);
    await set.close();
  });

  it("returns an Arrow table with exact microsecond timestamps", async () => {
    const v = await view();
    await ingestRows(store, v, [{ driver_id: 1, ts: "2024-01-01T08:00:00Z", value: 1.5, count: 7 }]);
    const set = await store.getHistoricalFeatures({ entities: [{ driver_id: 1, event_timestamp: new Date("2024-01-01T09:00:00Z") }], features: [`${v}:value`, `${v}:count`] });
    const table = await set.toArrow();
    await set.close();
    assert.equal(table.numRows, 1);
    assert.equal(table.getChild("value")?.get(0), 1.5);
    assert.equal(table.getChild("count")?.get(0), 7n);
    assert.equal(String(table.schema.fields.find((f) => f.name === "event_timestamp")?.type), "Timestamp<MICROSECOND, UTC>");
  });
});
