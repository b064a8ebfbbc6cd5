import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../helpers/cli.js";
import { openLoggedProject, writeValues, type LoggedProject } from "./logged-project.js";

type Response = { request_id?: string; results: { values: unknown[] }[]; metadata: { feature_names: string[] } };

/** Training sets from the serving log: labels that arrive later, joined to the features exactly as served. */
describe("training set from the serving log", () => {
  let p: LoggedProject;
  const responses = new Map<string, Response>();
  let single: string;
  let batch: string;
  let list: string;
  const unlogged = `${(Date.now() - 5_000).toString(36)}-deadbeef1`;

  before(async () => {
    p = await openLoggedProject({ services: { scoring: 1, ranking: 1 }, featureRefs: 1, flushIntervalMs: 60_000 });
    await writeValues(p);
    const single_ = await p.post("/get-online-features", { feature_service: "ranking", entities: { driver_id: [1] } });
    single = single_.headers["x-request-id"]!;
    responses.set(single, single_.json as unknown as Response);
    const batch_ = (await p.post("/v1/online-features", { feature_service: "scoring", entities: { customer_id: ["c-2", "zq-subject-7f3e9a", "nobody"], driver_id: [3, 1, 2] } })).json as unknown as Response;
    batch = batch_.request_id!;
    responses.set(batch, batch_);
    const list_ = (await p.post("/v1/online-features", { features: ["driver_profile:city", "driver_stats:trips"], entities: { driver_id: [2, 3] } })).json as unknown as Response;
    list = list_.request_id!;
    responses.set(list, list_);
    await p.log!.flush();
  });
  after(() => p.close());

  /** The value a response served for `feature` (its output name) in entity row `row`; null when it did not serve that feature. */
  const servedValue = (id: string, row: number, feature: string): unknown => {
    const r = responses.get(id);
    const k = r?.metadata.feature_names.indexOf(feature) ?? -1;
    return k < 0 ? null : r!.results[k]!.values[row];
  };
  const readOut = async (file: string): Promise<Record<string, unknown>[]> => (await p.store.engine()).rows(`SELECT * FROM read_parquet('${file}')`);

  it("picks each label's entity row by its join keys, keeps input order, and leaves labels with no logged request null", async () => {
    const labels = join(p.dir, "labels.csv");
    // [request, customer_id, driver_id, label, the entity row it means (or none)]
    const rows: [string, string, string, number, number | null][] = [
      [batch, "zq-subject-7f3e9a", "1", 1, 1],
      [unlogged, "", "5", 0, null],
      [single, "", "1", 1, 0],
      [batch, "nobody", "2", 0, 2],
      [list, "", "3", 1, 1],
      [batch, "c-2", "3", 1, 0],
    ];
    await writeFile(labels, `request_id,customer_id,driver_id,label\n${rows.map((r) => r.slice(0, 4).join(",")).join("\n")}\n`);
    const out = join(p.dir, "served.parquet");
    const result = await runCli(["-C", p.dir, "training-set", "--from-serving-log", "--entities", labels, "--out", out]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /1 of 6 label rows have no logged request \(or row\): their features are null/);

    const set = await readOut(out);
    const features = ["segment", "score", "big", "active", "seen_at", "embedding", "conv_rate", "trips", "city", "rating"];
    assert.deepEqual(Object.keys(set[0]!), ["request_id", "customer_id", "driver_id", "label", ...features, "served_at"]);
    assert.deepEqual(set.map((r) => [r.request_id, r.label]), rows.map((r) => [r[0], BigInt(r[3])]), "every label row once, in input order");
    rows.forEach(([id, , , , row], i) => {
      const out = set[i]!;
      if (row === null) {
        for (const f of [...features, "served_at"]) assert.equal(out[f], null, `${f} of an unlogged request`);
        return;
      }
      assert.ok(out.served_at instanceof Date && Math.abs(out.served_at.getTime() - Number.parseInt(id.split("-")[0]!, 36)) < 1000);
      for (const f of features) {
        const served = servedValue(id, row, f);
        const value = out[f];
        if (f === "seen_at") assert.equal(value === null ? null : Math.floor((value as Date).getTime() / 1000), served, `${id} row ${row} ${f}`);
        else if (typeof value === "bigint") assert.equal(value, BigInt(served as number | bigint), `${id} row ${row} ${f}`);
        else assert.deepEqual(value, served, `${id} row ${row} ${f}`);
      }
    });
    assert.equal(set[0]!.big, 9007199254740993n, "Int64 as served, exactly");
    assert.equal((set[0]!.seen_at as Date).toISOString(), "2024-05-01T10:00:00.654Z");
    assert.deepEqual(set[0]!.embedding, [0.5, -1.25]);
  });

  it("picks the entity row by row_index, with full feature names", async () => {
    const labels = join(p.dir, "labels-by-row.csv");
    await writeFile(labels, `request_id,row_index,clicked\n${batch},2,true\n${single},0,false\n${batch},0,true\n${batch},7,false\n`);
    const out = join(p.dir, "served-by-row.parquet");
    const result = await runCli(["-C", p.dir, "training-set", "--from-serving-log", "--entities", labels, "--out", out, "--full-feature-names"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /1 of 4 label rows/);
    const set = await readOut(out);
    assert.deepEqual(set.map((r) => [r.row_index, r.clicked, r.customer_profile__segment, r.driver_stats__trips, r.driver_profile__city]), [
      [2n, true, null, null, null], // customer "nobody" (NOT_FOUND), driver 2 (OUTSIDE_MAX_AGE)
      [0n, false, null, 10n, "ams"], // the ranking request: no customer features
      [0n, true, "silver", 30n, null],
      [7n, false, null, null, null], // no such row in the request
    ]);
  });

  it("refuses labels without request_id, and point-in-time options", async () => {
    const labels = join(p.dir, "bad.csv");
    await writeFile(labels, "driver_id,label\n1,1\n");
    const missing = await runCli(["-C", p.dir, "training-set", "--from-serving-log", "--entities", labels, "--out", join(p.dir, "x.parquet")]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no "request_id" column/);
    const mixed = await runCli(["-C", p.dir, "training-set", "--from-serving-log", "--service", "ranking", "--entities", labels, "--out", join(p.dir, "x.parquet")]);
    assert.equal(mixed.code, 1);
    assert.match(mixed.stderr, /drop --service/);
  });
});
