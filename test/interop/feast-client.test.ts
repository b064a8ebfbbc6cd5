import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { cliJson, runCli, runProcess } from "../helpers/cli.js";
import { startServerProcess, type CliProcess } from "../helpers/server-process.js";
import { tempDir } from "../helpers/temp-dir.js";

/**
 * Interoperability with Feast's own Python SDK (0.67.0, in bench/.venv-feast from
 * bench/feast/setup.sh): a Feast repo whose online store is `{type: remote}` pointed at
 * `strata serve` must read exactly what Strata's native route serves (values, Python types,
 * nulls), its writes must land in Strata, and Strata's errors must raise Feast's exceptions.
 */

const root = fileURLToPath(new URL("../../../", import.meta.url));
const venvBin = join(root, "bench", ".venv-feast", "bin");
const feastRepoTemplate = join(root, "test", "interop", "feast-repo", "definitions.py");
const driverScript = join(root, "test", "interop", "feast_client.py");

const VIEW = "driver_hourly_stats";
const FEATURES = [`${VIEW}:conv_rate`, `${VIEW}:acc_rate`, `${VIEW}:avg_daily_trips`];
/** Each column's Python type when a value is there: Float32 features must come back as float (1.0, not 1). */
const PY_TYPE: Record<string, "int" | "float"> = { driver_id: "int", conv_rate: "float", acc_rate: "float", avg_daily_trips: "int" };

/** Fresh rows (event time a minute ago), written through Feast's wire format; float32-exact floats. */
const FRESH = {
  driver_id: [1001, 1002, 1003, 1004],
  conv_rate: [1, null, Math.fround(1e-5), Math.fround(3e38)], // 1.0, a stored null, 9.99...e-06, 3.0...e+38
  acc_rate: [Math.fround(0.1), 0.5, 16777216, Math.fround(1e-4)], // 0.100000001..., 0.5, 16777216.0, 9.99...e-05
  avg_daily_trips: [0, 12, -7, 2 ** 31],
};
/** Read by every call: fresh drivers, 1005 (materialized, from 2024: outside the 2-day ttl), and an unknown id. */
const ENTITY_IDS = [...FRESH.driver_id, 1005, 9999];
/** Written by Feast's client (write_to_online_store): it rounds Float32 features to float32 itself; NaN is a null. */
const FEAST_WRITE = { driver_id: [1010, 1011], conv_rate: [0.1, null], acc_rate: [0.3, 7], avg_daily_trips: [7, -3] };

async function post(port: number, path: string, body: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

interface OnlineResponse {
  readonly results: readonly { values: unknown[]; statuses: string[]; event_timestamps: string[] }[];
  readonly metadata: { feature_names: string[] };
}

/** Strata's native route (`/v1/online-features`), which must answer 200. */
async function nativeRead(port: number, body: Record<string, unknown>): Promise<OnlineResponse> {
  const { status, text } = await post(port, "/v1/online-features", body);
  assert.equal(status, 200, text);
  return JSON.parse(text) as OnlineResponse;
}

/** name → values, in the response's column order: the shape of Feast's `to_dict()`. */
const columnsOf = (response: OnlineResponse): Record<string, unknown[]> => Object.fromEntries(response.metadata.feature_names.map((name, i) => [name, response.results[i]!.values]));
const statusesOf = (response: OnlineResponse): Record<string, string[]> => Object.fromEntries(response.metadata.feature_names.map((name, i) => [name, response.results[i]!.statuses]));

/** One `get_online_features(...).to_dict()` from the Python side, with each value's Python type name. */
type FeastDict = Record<string, { values: unknown[]; types: string[] }>;

interface FeastReport {
  readonly feast_version: string;
  readonly features: FeastDict;
  readonly service: FeastDict;
  readonly full_feature_names: FeastDict;
  readonly written_event_timestamp: string;
  readonly after_write: FeastDict;
  readonly unknown_view_error: { class: string; module: string; message: string } | null;
}

/** Feast's dict equals Strata's columns exactly (same names in the same order, the same doubles, ints and nulls), and each value has the Python type its feature's type calls for. */
function assertSameAsStrata(feast: FeastDict, strata: OnlineResponse, what: string): void {
  const expected = columnsOf(strata);
  assert.deepEqual(Object.keys(feast), Object.keys(expected), `${what}: column names and order`);
  assert.deepEqual(Object.fromEntries(Object.entries(feast).map(([name, c]) => [name, c.values])), expected, `${what}: values`);
  for (const [name, column] of Object.entries(feast)) {
    const kind = PY_TYPE[name.replace(`${VIEW}__`, "")];
    assert.ok(kind !== undefined, `${what}: unexpected column ${name}`);
    assert.deepEqual(column.types, column.values.map((v) => (v === null ? "NoneType" : kind)), `${what}: Python types of ${name}`);
  }
}

/** A naive-UTC ISO time without fractional seconds, as Feast's client sends event times (`datetime.isoformat()`). */
const naiveUtc = (ms: number): string => new Date(ms).toISOString().slice(0, 19);

describe("Feast's Python SDK (remote online store) against `strata serve`", () => {
  let project: string;
  let server: CliProcess | undefined;
  let port: number;
  let freshTime: string;
  let feast: FeastReport;

  before(async () => {
    assert.ok(existsSync(join(venvBin, "feast")), `no Feast virtualenv at ${venvBin}: run \`bash bench/feast/setup.sh\` (scripts/test.sh does)`);
    const base = await tempDir("strata-feast-interop-");
    project = join(base, "strata_project");
    const init = await runCli(["init", project]);
    assert.equal(init.code, 0, init.stderr);
    await cliJson(["-C", project, "apply"]);
    assert.equal((await cliJson<{ rows: number }>(["-C", project, "ingest", VIEW])).rows, 1808);
    const materialized = await cliJson<{ rows: number }[]>(["-C", project, "materialize", "--end", "2024-09-11T00:00:00Z"]);
    assert.equal(materialized[0]?.rows, 5, "drivers 1001..1005 materialized");

    server = await startServerProcess(project);
    port = server.port;

    // Fresh rows through Feast's write route, in the shape Feast's client posts: naive-UTC event times, `created` null.
    freshTime = naiveUtc(Date.now() - 60_000);
    const written = await post(port, "/write-to-online-store", {
      feature_view_name: VIEW,
      df: { ...FRESH, event_timestamp: FRESH.driver_id.map(() => freshTime), created: FRESH.driver_id.map(() => null) },
      allow_registry_cache: false,
    });
    assert.equal(written.status, 200, written.text);

    // A Feast repo mirroring the project's definitions, with the remote online store on our server.
    const repo = join(base, "feast_repo");
    await mkdir(join(repo, "data"), { recursive: true });
    await copyFile(feastRepoTemplate, join(repo, "definitions.py"));
    await writeFile(
      join(repo, "feature_store.yaml"),
      [
        "project: strata_interop",
        "provider: local",
        "registry: data/registry.db",
        "online_store:",
        "  type: remote",
        `  path: http://127.0.0.1:${port}`,
        "entity_key_serialization_version: 3",
        "",
      ].join("\n"),
    );
    const env = { STRATA_DRIVER_STATS: join(project, "data", "driver_stats.parquet"), PYTHONNOUSERSITE: "1", PYTHONDONTWRITEBYTECODE: "1" };
    const applied = await runProcess(join(venvBin, "feast"), ["apply"], { cwd: repo, env, timeoutMs: 120_000 });
    assert.equal(applied.code, 0, `feast apply failed:\n${applied.stdout}\n${applied.stderr}`);

    const request = JSON.stringify({ entity_ids: ENTITY_IDS, write: FEAST_WRITE });
    const client = await runProcess(join(venvBin, "python"), [driverScript, repo], { cwd: repo, env, input: request, timeoutMs: 120_000 });
    assert.equal(client.code, 0, `feast_client.py failed:\n${client.stderr}`);
    feast = JSON.parse(client.stdout) as FeastReport;
  });

  after(async () => {
    await server?.stop();
  });

  it("runs Feast 0.67.0", () => {
    assert.equal(feast.feast_version, "0.67.0");
  });

  it("serves, on Strata's native route, the statuses and values written and materialized", async () => {
    const strata = await nativeRead(port, { features: FEATURES, entities: { driver_id: ENTITY_IDS } });
    const P = "PRESENT";
    assert.deepEqual(statusesOf(strata), {
      driver_id: ENTITY_IDS.map(() => P),
      conv_rate: [P, "NULL_VALUE", P, P, "OUTSIDE_MAX_AGE", "NOT_FOUND"],
      acc_rate: [P, P, P, P, "OUTSIDE_MAX_AGE", "NOT_FOUND"],
      avg_daily_trips: [P, P, P, P, "OUTSIDE_MAX_AGE", "NOT_FOUND"],
    });
    assert.deepEqual(columnsOf(strata), {
      driver_id: ENTITY_IDS,
      conv_rate: [...FRESH.conv_rate, null, null],
      acc_rate: [...FRESH.acc_rate, null, null],
      avg_daily_trips: [...FRESH.avg_daily_trips, null, null],
    });
    assert.deepEqual(strata.results[1]!.event_timestamps.slice(0, 4), FRESH.driver_id.map(() => `${freshTime}Z`), "the naive event time read as UTC");
    // Driver 1005 was materialized: as of its data's time it is there.
    const then = await nativeRead(port, { features: FEATURES, entities: { driver_id: [1005] }, read_time: "2024-09-10T12:00:00Z" });
    assert.deepEqual(then.results.map((r) => r.statuses[0]), [P, P, P, P]);
  });

  it("reads with a features list exactly what Strata's native route serves (floats, ints, nulls, types)", async () => {
    const strata = await nativeRead(port, { features: FEATURES, entities: { driver_id: ENTITY_IDS } });
    assertSameAsStrata(feast.features, strata, "features list");
    // Not vacuous: the fresh values themselves came through, as Python floats and ints.
    assert.deepEqual(feast.features.conv_rate!.values.slice(0, 4), FRESH.conv_rate);
    assert.deepEqual(feast.features.conv_rate!.types.slice(0, 4), ["float", "NoneType", "float", "float"], "1.0 stays a float");
    assert.deepEqual(feast.features.acc_rate!.types.slice(0, 4), ["float", "float", "float", "float"], "16777216.0 stays a float");
    assert.deepEqual(feast.features.avg_daily_trips!.values.slice(0, 4), FRESH.avg_daily_trips);
  });

  it("reads with the feature service exactly what Strata's native route serves", async () => {
    const strata = await nativeRead(port, { feature_service: "driver_ranking", entities: { driver_id: ENTITY_IDS } });
    assertSameAsStrata(feast.service, strata, "feature service");
    assert.deepEqual(Object.keys(feast.service), ["driver_id", "conv_rate", "acc_rate", "avg_daily_trips"]);
  });

  it("reads with full_feature_names=True exactly what Strata's native route serves", async () => {
    const strata = await nativeRead(port, { features: FEATURES, entities: { driver_id: ENTITY_IDS }, full_feature_names: true });
    assertSameAsStrata(feast.full_feature_names, strata, "full feature names");
    assert.deepEqual(Object.keys(feast.full_feature_names), ["driver_id", `${VIEW}__conv_rate`, `${VIEW}__acc_rate`, `${VIEW}__avg_daily_trips`]);
  });

  it("writes with write_to_online_store what Strata then serves, and reads it back the same", async () => {
    const strata = await nativeRead(port, { features: FEATURES, entities: { driver_id: FEAST_WRITE.driver_id } });
    const P = "PRESENT";
    assert.deepEqual(statusesOf(strata), { driver_id: [P, P], conv_rate: [P, "NULL_VALUE"], acc_rate: [P, P], avg_daily_trips: [P, P] });
    assert.deepEqual(columnsOf(strata), {
      driver_id: FEAST_WRITE.driver_id,
      // Feast's client converts Float32 features to float32 before sending.
      conv_rate: FEAST_WRITE.conv_rate.map((v) => (v === null ? null : Math.fround(v))),
      acc_rate: FEAST_WRITE.acc_rate.map((v) => Math.fround(v)),
      avg_daily_trips: FEAST_WRITE.avg_daily_trips,
    });
    const writtenAt = Date.parse(feast.written_event_timestamp);
    assert.deepEqual(strata.results[1]!.event_timestamps.map((t) => Date.parse(t)), [writtenAt, writtenAt], "Feast's naive-UTC event time, read as UTC");
    assertSameAsStrata(feast.after_write, strata, "read after write");
  });

  it("raises FeatureViewNotFoundException for an unknown feature view", () => {
    assert.ok(feast.unknown_view_error !== null, "the read of no_such_view:conv_rate did not raise");
    assert.equal(feast.unknown_view_error.class, "FeatureViewNotFoundException", feast.unknown_view_error.message);
    assert.equal(feast.unknown_view_error.module, "feast.errors");
    assert.match(feast.unknown_view_error.message, /no_such_view/);
  });

  // Requests as Feast's client sends them (json.dumps writes Python ints exactly), where Strata differs from Feast's server.
  describe("edge cases of Feast's wire format", () => {
    it("stores an Int64 beyond 2^53 written over /write-to-online-store exactly", async () => {
      const body = `{"feature_view_name":"${VIEW}","df":{"driver_id":[3001],"event_timestamp":["${naiveUtc(Date.now())}"],"created":[null],"conv_rate":[0.5],"acc_rate":[0.5],"avg_daily_trips":[9007199254740993]}}`;
      const written = await post(port, "/write-to-online-store", body);
      assert.equal(written.status, 200, written.text);
      const read = await post(port, "/get-online-features", { features: [`${VIEW}:avg_daily_trips`], entities: { driver_id: [3001] } });
      assert.match(read.text, /"values":\[9007199254740993\]/);
    });

    it("reads an Int64 join key beyond 2^53", async () => {
      const read = await post(port, "/get-online-features", `{"features":["${VIEW}:conv_rate"],"entities":{"driver_id":[9007199254740993]}}`);
      assert.equal(read.status, 200, read.text);
      assert.match(read.text, /"values":\[9007199254740993\]/);
    });

    it("serves a Float32 written as 0.1 at float32 precision, as Feast's server (and Strata's offline store) does", async () => {
      const written = await post(port, "/write-to-online-store", { feature_view_name: VIEW, df: { driver_id: [3002], event_timestamp: [naiveUtc(Date.now())], created: [null], conv_rate: [0.1], acc_rate: [0.1], avg_daily_trips: [1] } });
      assert.equal(written.status, 200, written.text);
      const read = await nativeRead(port, { features: [`${VIEW}:conv_rate`], entities: { driver_id: [3002] } });
      assert.equal(read.results[1]!.values[0], Math.fround(0.1));
    });

    it("keeps the microseconds of a written event time", async () => {
      const time = `${naiveUtc(Date.now())}.123456`;
      const written = await post(port, "/write-to-online-store", { feature_view_name: VIEW, df: { driver_id: [3003], event_timestamp: [time], created: [null], conv_rate: [0.5], acc_rate: [0.5], avg_daily_trips: [1] } });
      assert.equal(written.status, 200, written.text);
      const read = await nativeRead(port, { features: [`${VIEW}:conv_rate`], entities: { driver_id: [3003] } });
      assert.equal(read.results[1]!.event_timestamps[0], `${time}Z`);
    });
  });
});
