import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { DuckDb } from "../../src/offline/duckdb.js";
import { cliJson, runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp-dir.js";

const labels = fileURLToPath(new URL("../../../test/fixtures/driver_labels.csv", import.meta.url));

/**
 * The answer for the fixed labels file, computed without ASOF: every candidate row ranked by a
 * window function over the raw source file, straight from the definition of the contract.
 */
function oracleSql(source: string, options: { inclusive: boolean; asOfIngestion: boolean }): string {
  return `
    WITH l AS (SELECT * FROM read_csv('${labels}', header = true)),
    ranked AS (
      SELECT l.label_id, f.conv_rate, f.acc_rate, f.avg_daily_trips,
             row_number() OVER (PARTITION BY l.label_id ORDER BY f.event_timestamp DESC, f.created DESC) AS rank
      FROM l JOIN read_parquet('${source}') f
        ON f.driver_id = l.driver_id
       AND f.event_timestamp ${options.inclusive ? "<=" : "<"} CAST(l.event_timestamp AS TIMESTAMPTZ)
       AND f.event_timestamp >= CAST(l.event_timestamp AS TIMESTAMPTZ) - INTERVAL 2 DAY
       ${options.asOfIngestion ? "AND CAST(f.created AS TIMESTAMPTZ) <= CAST(l.event_timestamp AS TIMESTAMPTZ)" : ""})
    SELECT l.label_id, r.conv_rate, r.acc_rate, r.avg_daily_trips::BIGINT AS avg_daily_trips
    FROM l LEFT JOIN ranked r ON r.label_id = l.label_id AND r.rank = 1 ORDER BY l.label_id`;
}

describe("strata training-set on the driver_stats data matches a window-function oracle", () => {
  let dir: string;
  let duck: DuckDb;
  before(async () => {
    dir = join(await tempDir(), "driver-project");
    duck = await DuckDb.open();
    assert.equal((await runCli(["init", dir])).code, 0);
    await cliJson(["-C", dir, "apply"]);
    const ingested = await cliJson<{ rows: number }>(["-C", dir, "ingest", "driver_hourly_stats"]);
    assert.equal(ingested.rows, 1808);
  });
  after(() => duck.close());

  for (const options of [
    { inclusive: false, asOfIngestion: false },
    { inclusive: true, asOfIngestion: false },
    { inclusive: false, asOfIngestion: true },
  ]) {
    it(`agrees row by row (${JSON.stringify(options)})`, async () => {
      const out = join(dir, `train-${options.inclusive}-${options.asOfIngestion}.parquet`);
      const flags = [...(options.inclusive ? ["--inclusive"] : []), ...(options.asOfIngestion ? ["--as-of-ingestion"] : [])];
      const summary = await cliJson<{ rows: number; views: { matched: number }[] }>(["-C", dir, "training-set", "--entities", labels, "--service", "driver_ranking", "--out", out, ...flags]);
      const got = await duck.rows(`SELECT label_id, conv_rate, acc_rate, avg_daily_trips FROM read_parquet('${out}')`);
      const expected = await duck.rows(oracleSql(join(dir, "data", "driver_stats.parquet"), options));
      assert.equal(summary.rows, expected.length);
      assert.deepEqual(got, expected, "same values, and output rows in the labels' input order");
      assert.equal(summary.views[0]?.matched, expected.filter((r) => r.conv_rate !== null).length);
      assert.ok(expected.some((r) => r.conv_rate !== null) && expected.some((r) => r.conv_rate === null), "the fixture exercises both hits and misses");
    });
  }

  it("keeps the labels' extra columns and names features view__feature on request", async () => {
    const out = join(dir, "train-full.csv");
    await cliJson(["-C", dir, "training-set", "--entities", labels, "--features", "driver_hourly_stats:conv_rate", "--full-feature-names", "--out", out]);
    const columns = (await duck.describe(`SELECT * FROM read_csv('${out}', header = true)`)).map((c) => c.name);
    assert.deepEqual(columns, ["label_id", "driver_id", "event_timestamp", "trip_completed", "driver_hourly_stats__conv_rate"]);
  });
});
