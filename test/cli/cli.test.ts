import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { before, describe, it } from "node:test";
import { cliJson, runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp-dir.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** The CLI end to end on a project outside the repo, with nothing installed next to it. */
describe("strata CLI", () => {
  let dir: string;
  const strata = (...args: string[]): ReturnType<typeof runCli> => runCli(["-C", dir, ...args]);
  const editFeatures = async (from: string | RegExp, to: string): Promise<void> => {
    const file = join(dir, "features.ts");
    const before = await readFile(file, "utf8");
    const after = before.replace(from, to);
    assert.notEqual(after, before, `features.ts contains ${String(from)}`);
    await writeFile(file, after);
  };

  before(async () => {
    dir = join(await tempDir(), "my-project");
    const init = await runCli(["init", dir]);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /strata\.yaml/);
  });

  it("bin/strata runs the CLI", async () => {
    const { stdout } = await promisify(execFile)(join(repoRoot, "bin", "strata"), ["--help"]);
    assert.match(stdout, /training-set/);
  });

  it("init --json lists what it created", async () => {
    const other = join(await tempDir(), "json-project");
    const created = await cliJson<{ dir: string; files: string[] }>(["init", other]);
    assert.deepEqual(created, { dir: other, files: ["strata.yaml", "features.ts", "data/driver_stats.parquet", "tsconfig.json", ".gitignore"] });
  });

  it("refuses to init over an existing project", async () => {
    const again = await runCli(["init", dir]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already a Strata project/);
  });

  it("plans, applies, then has nothing left to apply", async () => {
    const plan = await cliJson<{ changes: { kind: string; name: string; action: string }[] }>(["-C", dir, "plan"]);
    assert.deepEqual(
      plan.changes.map((c) => `${c.action} ${c.kind} ${c.name}`),
      ["add entity driver", "add featureView driver_hourly_stats", "add featureService driver_ranking"],
    );
    const applied = await cliJson<{ revision: number }>(["-C", dir, "apply"]);
    assert.equal(applied.revision, 1);
    const text = await strata("plan");
    assert.match(text.stdout, /no changes/);
  });

  it("runs from the current folder without -C", async () => {
    const list = await runCli(["registry", "list", "--json"], { cwd: dir });
    assert.equal(list.code, 0, list.stderr);
    assert.equal((JSON.parse(list.stdout) as unknown[]).length, 3);
  });

  it("keeps the version on an additive change and adds v2 beside v1 on a breaking one", async () => {
    await editFeatures('description: "Hourly driver statistics"', 'description: "Hourly driver stats, v-agnostic"');
    const additive = await cliJson<{ changes: { action: string; breaking: boolean; toVersion?: number }[] }>(["-C", dir, "apply"]);
    assert.deepEqual(additive.changes.map((c) => [c.action, c.breaking, c.toVersion]), [["update", false, 1]]);

    await editFeatures("avg_daily_trips: Int64", "avg_daily_trips: Float64");
    await editFeatures("Float32, Int64 }", "Float32, Float64 }");
    const plan = await strata("plan");
    assert.match(plan.stdout, /v1 → v2 .*\[breaking\]/);
    assert.match(plan.stdout, /retyped feature avg_daily_trips: Int64 → Float64/);
    await cliJson(["-C", dir, "apply"]);

    const shown = await cliJson<{ versions: { version: number; spec: { features: { name: string; type: string }[] }; services: string[] }[] }>(["-C", dir, "registry", "show", "driver_hourly_stats"]);
    assert.deepEqual(shown.versions.map((v) => [v.version, v.spec.features.find((f) => f.name === "avg_daily_trips")?.type, v.services]), [
      [1, "Int64", []],
      [2, "Float64", ["driver_ranking"]],
    ]);
    const lineage = await cliJson<{ kind: string; views: { source: { path: string }; versions: { version: number; services: string[] }[] }[] }>(["-C", dir, "lineage", "driver_ranking"]);
    assert.equal(lineage.kind, "featureService");
    assert.deepEqual(lineage.views.map((v) => [v.source.path, v.versions.map((x) => [x.version, x.services])]), [["data/driver_stats.parquet", [[2, ["driver_ranking"]]]]]);
    assert.match((await strata("lineage", "driver_hourly_stats")).stdout, /source data\/driver_stats\.parquet[\s\S]*v1[\s\S]*v2[\s\S]*featureService driver_ranking/);
  });

  it("removes an old version explicitly, but not the latest", async () => {
    const latest = await strata("registry", "remove", "driver_hourly_stats", "--version", "2");
    assert.equal(latest.code, 1);
    assert.match(latest.stderr, /latest version/);
    await cliJson(["-C", dir, "registry", "remove", "driver_hourly_stats", "--version", "1"]);
    const list = await cliJson<{ name: string; versions: string }[]>(["-C", dir, "registry", "list", "--all"]);
    assert.equal(list.find((r) => r.name === "driver_hourly_stats")?.versions, "v1 (removed), v2");
    const history = await cliJson<{ summary: string[] }[]>(["-C", dir, "registry", "history"]);
    assert.deepEqual(history[0]?.summary, ["remove featureView driver_hourly_stats v1"]);
  });

  it("loads definitions split over several files, still importing only 'strata'", async () => {
    await writeFile(join(dir, "entities.ts"), 'import { entity } from "strata";\nexport const rider = entity({ name: "rider", joinKeys: ["rider_id"] });\n');
    await editFeatures(/^/, 'export { rider } from "./entities.js";\n');
    const plan = await cliJson<{ changes: { action: string; name: string }[] }>(["-C", dir, "plan"]);
    assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.name}`), ["add rider"]);
  });

  it("names the object and field of invalid definitions, and applies nothing", async () => {
    const original = await readFile(join(dir, "features.ts"), "utf8");
    const cases: [string, string, RegExp][] = [
      ['ttl: "2d"', 'ttl: "2x"', /featureView "driver_hourly_stats" field "ttl": bad duration "2x"/],
      ["conv_rate: Float32", 'conv_rate: "float" as never', /featureView "driver_hourly_stats" field "schema.conv_rate": unknown type "float"/],
      ['joinKeys: ["driver_id"]', 'joinKeys: ["driver"]', /join key "driver" is not a column of data\/driver_stats\.parquet/],
      ['name: "driver_ranking"', 'name: "driver"', /featureService "driver" field "name": is also the name of an entity/],
      ["export const driverStats", "export const broken = (; export const driverStats", /features\.ts:\d+:\d+/],
    ];
    for (const [from, to, message] of cases) {
      await writeFile(join(dir, "features.ts"), original.replace(from, to));
      const result = await strata("apply");
      assert.equal(result.code, 1, `${to}: ${result.stdout}`);
      assert.match(result.stderr, message);
    }
    await writeFile(join(dir, "features.ts"), original);
    const history = await cliJson<unknown[]>(["-C", dir, "registry", "history"]);
    assert.equal(history.length, 4, "no failed apply reached the registry");
  });

  it("rejects an unknown key in strata.yaml, naming it", async () => {
    const config = join(dir, "strata.yaml");
    const original = await readFile(config, "utf8");
    await writeFile(config, original.replace("offline:", "ofline_typo: 1\noffline:"));
    const result = await strata("registry", "list");
    await writeFile(config, original);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /strata\.yaml: top level: Unrecognized key.*"ofline_typo"/);
  });

  it("ingests, builds a training set, and asks for --features or --service", async () => {
    await cliJson(["-C", dir, "ingest", "driver_hourly_stats"]);
    const labels = join(dir, "labels.csv");
    await writeFile(labels, "driver_id,event_timestamp\n1001,2024-09-01T12:00:00Z\n");
    const out = join(dir, "train.parquet");
    const summary = await cliJson<{ rows: number; views: { view: string; version: number; matchRate: number }[] }>(["-C", dir, "training-set", "--entities", labels, "--service", "driver_ranking", "--out", out]);
    assert.deepEqual(summary.views.map((v) => [v.view, v.version, v.matchRate]), [["driver_hourly_stats", 2, 1]]);
    const neither = await strata("training-set", "--entities", labels, "--out", out);
    assert.equal(neither.code, 1);
    assert.match(neither.stderr, /either features or a service/);
  });
});
