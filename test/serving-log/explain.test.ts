import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseJsonExact } from "../../src/server/json.js";
import { ServingLogLayout } from "../../src/serving-log/serving-log-layout.js";
import { cliJson, runCli } from "../helpers/cli.js";
import { openLoggedProject, writeValues, type LoggedProject } from "./logged-project.js";

interface Explained {
  requestId: string;
  servedAt: string;
  service: string | null;
  degraded: boolean;
  rows: { rowIndex: number; entity: Record<string, unknown>; features: { feature: string; view: string; version: number; value: unknown; status: string; eventTimestamp: string | null }[] }[];
}

/** `strata explain <request-id>`: what a prediction consumed, exactly as served, from the serving log. */
describe("strata explain", () => {
  let p: LoggedProject;
  let batch: Record<string, unknown>;
  let single: string;

  before(async () => {
    p = await openLoggedProject({ services: { scoring: 1, ranking: 1 }, flushIntervalMs: 60_000 });
    await writeValues(p);
    batch = (await p.post("/v1/online-features", { feature_service: "scoring", entities: { customer_id: ["c-2", "zq-subject-7f3e9a", "nobody"], driver_id: [3, 1, 2] } })).json;
    single = (await p.post("/get-online-features", { feature_service: "ranking", entities: { driver_id: [3] } })).headers["x-request-id"]!;
    await p.log!.flush();
  });
  after(() => p.close());

  it("prints per entity row each feature's view version, value, status and event time, as served", async () => {
    const id = batch.request_id as string;
    // The CLI's JSON, parsed exactly, against the response's body (the oracle).
    const result = await runCli(["-C", p.dir, "explain", id, "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const explained = parseJsonExact(result.stdout) as Explained;
    assert.equal(explained.requestId, id);
    assert.equal(explained.service, "scoring");
    assert.equal(explained.degraded, false);
    const results = batch.results as { values: unknown[]; statuses: string[]; event_timestamps: string[] }[];
    const names = (batch.metadata as { feature_names: string[] }).feature_names;
    assert.deepEqual(explained.rows.map((r) => r.entity), [{ customer_id: "c-2", driver_id: 3 }, { customer_id: "zq-subject-7f3e9a", driver_id: 1 }, { customer_id: "nobody", driver_id: 2 }]);
    for (const row of explained.rows) {
      assert.deepEqual(row.features.map((f) => f.feature.split(":")[1]), names.slice(2));
      row.features.forEach((f, j) => {
        const column = results[j + 2]!;
        const value = f.feature === "customer_profile:seen_at" && typeof f.value === "string" ? Math.floor(Date.parse(f.value) / 1000) : f.value;
        // --json writes integers beyond 2^53 as strings of their digits.
        const servedValue = column.values[row.rowIndex];
        assert.deepEqual(value, typeof servedValue === "bigint" ? servedValue.toString() : servedValue, `${f.feature} row ${row.rowIndex}`);
        assert.equal(f.status, column.statuses[row.rowIndex]);
        assert.equal(f.eventTimestamp ?? "1970-01-01T00:00:00Z", column.event_timestamps[row.rowIndex]);
        assert.equal(f.version, (batch.view_versions as Record<string, number>)[f.view]);
      });
    }
    assert.equal(explained.rows[1]!.features.find((f) => f.feature === "customer_profile:big")?.value, "9007199254740993", "Int64 beyond 2^53 exactly");

    const text = await runCli(["-C", p.dir, "explain", id]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^request ${id}, served \\S+Z, service scoring$`, "m"));
    assert.match(text.stdout, /^row 1: customer_id=zq-subject-7f3e9a, driver_id=1$/m);
    const line = (feature: string, row: number): string => text.stdout.split(/\n\n/)[row + 1]!.split("\n").find((l) => new RegExp(`\\s${feature}\\s`).test(l))!;
    assert.match(line("big", 1), /customer_profile\s+v1\s+big\s+9007199254740993\s+PRESENT\s+\S+Z$/);
    assert.match(line("score", 1), /\s0\.30000000000000004\s+PRESENT\s/, "every digit of a float");
    assert.match(line("seen_at", 1), /\s2024-05-01T10:00:00\.654321Z\s+PRESENT\s/);
    assert.match(line("conv_rate", 2), /driver_stats\s+v1\s+conv_rate\s+null\s+OUTSIDE_MAX_AGE\s+\S+Z$/);
    assert.match(line("segment", 2), /customer_profile\s+v1\s+segment\s+null\s+NOT_FOUND\s*$/, "no event time when nothing was found");
  });

  it("explains a Feast-route request by the id in its x-request-id header", async () => {
    const explained = await cliJson<Explained>(["-C", p.dir, "explain", single]);
    assert.equal(explained.rows.length, 1);
    assert.deepEqual(explained.rows[0]!.entity, { driver_id: 3 });
    assert.deepEqual(explained.rows[0]!.features.map((f) => [f.feature, f.value, f.status]), [
      ["driver_stats:conv_rate", null, "NULL_VALUE"],
      ["driver_stats:trips", 30, "PRESENT"],
      ["driver_profile:city", 'b"eré', "PRESENT"],
      ["driver_profile:rating", 4.5, "PRESENT"],
    ]);
    assert.equal(explained.rows[0]!.features[2]!.eventTimestamp, "2024-02-29T12:00:00.123456Z");
  });

  it("says clearly when a request is not in the log", async () => {
    const missing = `${Date.now().toString(36)}-00000000ff`;
    const result = await runCli(["-C", p.dir, "explain", missing]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`error \\[NOT_FOUND\\]: request "${missing}" not found: not in the serving log`));
    const bad = await runCli(["-C", p.dir, "explain", "no such id"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /NOT_FOUND.*not a request id/);
  });

  it("names a file of the earlier row format instead of failing on a missing column, and reads on once it is moved out", async () => {
    const duck = await p.store.engine();
    const [first] = await new ServingLogLayout(p.store.config.offline.path).partFiles();
    const earlier = join(dirname(first!), "part-earlier.parquet");
    await duck.run(`COPY (SELECT 'x' AS request_id, now() AS served_at, NULL::VARCHAR AS service, 0 AS row_index, ['driver_id=3'] AS subject_keys, '{}' AS entity, '[]' AS features, false AS degraded) TO '${earlier}' (FORMAT parquet)`);
    const result = await runCli(["-C", p.dir, "explain", single]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`STORAGE_FAILED.*${earlier.replaceAll("/", "\\/").replaceAll(".", "\\.")} is in the earlier row format`));
    await rm(earlier);
    assert.equal((await runCli(["-C", p.dir, "explain", single])).code, 0);
  });
});
