import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { batchSource, collectDefinitions, compileDefinitions, entity, featureView, Float64, Int64 } from "../../src/index.js";
import type { FeatureStore, IngestReport } from "../../src/index.js";
import { readCommits, type OfflineCommit } from "../../src/offline/commit-log.js";
import { DuckDb } from "../../src/offline/duckdb.js";
import { ViewVersionLayout } from "../../src/offline/offline-layout.js";
import { sweepOrphans } from "../../src/offline/orphan-sweep.js";
import { toCsv } from "../helpers/csv.js";
import { openProject } from "../helpers/project.js";

/**
 * Ingestions into one view from two processes at once: no commit is lost (seq 1, 2, ...), every
 * row is visible, and rows tied across the two (same keys and event_timestamp) mark the later
 * commit as not tie-free, so retrieval breaks the tie by the greatest created_timestamp.
 */

const CHILD = fileURLToPath(new URL("./ingest-child.js", import.meta.url));
const T = new Date("2024-01-01T10:00:00Z");
const HOUR = 3_600_000;
type Point = "staged" | "renamed";

let store: FeatureStore;
let dir: string;
let inputs = 0;

type Row = { readonly driver_id: number; readonly ts: Date; readonly created: Date; readonly value: number };

async function csvFile(rows: readonly Row[]): Promise<string> {
  const file = join(dir, `input-${++inputs}.csv`);
  await writeFile(file, toCsv(["driver_id", "ts", "created", "value"], rows));
  return file;
}

/** `count` keys from `first`, each with a row at T and T + 1 day; value = key + 0.25. */
const rowsFor = (first: number, count: number): Row[] =>
  Array.from({ length: count }, (_, i) => [0, 24].map((h) => ({ driver_id: first + i, ts: new Date(T.getTime() + h * HOUR), created: T, value: first + i + 0.25 }))).flat();

/** Runs `ingest-child.js`; with `pause`, it stops at that checkpoint until `barrier` exists. */
function ingestInChild(view: string, file: string, pause?: { at: Point; barrier: string }): Promise<IngestReport> {
  const env = pause === undefined ? process.env : { ...process.env, STRATA_PAUSE_AT: pause.at, STRATA_BARRIER: pause.barrier };
  const child = spawn(process.execPath, [CHILD, dir, view, file], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) =>
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(stdout) as IngestReport) : reject(new Error(`child exited with ${code}: ${stderr}`)))),
  );
}

/** Waits until `count` children wait at `barrier`; fails at once if the children finish first (a child that died never arrives). */
async function arrived(barrier: string, count: number, children: readonly Promise<unknown>[]): Promise<void> {
  let finished = false;
  void Promise.allSettled(children).then(() => (finished = true));
  while ((await readdir(dirname(barrier))).filter((n) => n.startsWith(`${basename(barrier)}.`) && n.endsWith(".ready")).length < count) {
    if (finished) throw new Error(`children ended before ${count} reached ${barrier}: ${JSON.stringify(await Promise.allSettled(children))}`);
    await sleep(5);
  }
}

const release = (barrier: string): Promise<void> => writeFile(barrier, "");

async function commitsOf(view: string): Promise<OfflineCommit[]> {
  return readCommits(new ViewVersionLayout(store.config.offline.path, view, 1));
}

/** Latest `value` of each key at `at` (inclusive). */
async function valuesAt(view: string, keys: readonly number[], at: Date): Promise<unknown[]> {
  const set = await store.getHistoricalFeatures({ entities: keys.map((k) => ({ driver_id: k, event_timestamp: at })), features: [`${view}:value`], inclusive: true });
  try {
    return (await set.toRows()).map((r) => r.value);
  } finally {
    await set.close();
  }
}

const keysFrom = (first: number, count: number): number[] => Array.from({ length: count }, (_, i) => first + i);

/** Keys 0..99 at T; created one hour after T for one half and two for the other, as `laterHalf` says; value `value`. */
const tiedRows = (laterHalf: "low" | "high", value: number): Row[] =>
  keysFrom(0, 100).map((k) => ({ driver_id: k, ts: T, created: new Date(T.getTime() + ((k < 50) === (laterHalf === "low") ? 2 : 1) * HOUR), value }));

describe("concurrent ingestions into one view", () => {
  before(async () => {
    ({ store, dir } = await openProject());
    const driver = entity({ name: "driver", joinKeys: ["driver_id"], valueType: Int64 });
    const views = ["rides", "ties", "race", "swept"].map((name) =>
      featureView({ name, entities: [driver], schema: { value: Float64 }, source: batchSource({ path: `data/${name}.csv`, timestampField: "ts", createdTimestampField: "created" }) }),
    );
    await store.apply(compileDefinitions(collectDefinitions({ views })));
  });
  after(() => store.close());

  const lineups: (Point | undefined)[] = [undefined, "staged", "renamed"];
  for (const [round, at] of lineups.entries()) {
    it(`two processes ingesting different files ${at === undefined ? "at once" : `lined up at "${at}"`} both commit`, async () => {
      const before = (await commitsOf("rides")).length;
      const [a, b] = [keysFrom(round * 1000, 100), keysFrom(round * 1000 + 500, 100)];
      const files = [await csvFile(rowsFor(a[0]!, 100)), await csvFile(rowsFor(b[0]!, 100))];
      const barrier = join(dir, `barrier-rides-${round}`);
      const running = files.map((f) => ingestInChild("rides", f, at === undefined ? undefined : { at, barrier }));
      if (at !== undefined) {
        await arrived(barrier, 2, running);
        await release(barrier);
      }
      const reports = await Promise.all(running);
      assert.deepEqual(reports.map((r) => r.commit?.seq).sort(), [before + 1, before + 2], "one commit each, none lost");
      const commits = (await commitsOf("rides")).slice(before);
      assert.deepEqual(commits.map((c) => c.seq), [before + 1, before + 2]);
      assert.deepEqual(commits.map((c) => c.source).sort(), [...files].sort());
      assert.deepEqual(commits.map((c) => [c.rows, c.tieFree]), [[200, true], [200, true]]);
      const keys = [...a, ...b];
      assert.deepEqual(await valuesAt("rides", keys, new Date(T.getTime() + 48 * HOUR)), keys.map((k) => k + 0.25));
    });
  }

  it("a tie with a commit published while the other ingestion waited after staging: later commit not tie-free, greatest created wins", async () => {
    const first = await csvFile(tiedRows("low", 1));
    const second = await csvFile(tiedRows("high", 2));
    const barrier = join(dir, "barrier-ties");
    const waiting = ingestInChild("ties", second, { at: "renamed", barrier });
    await arrived(barrier, 1, [waiting]);
    const done = await ingestInChild("ties", first);
    await release(barrier);
    const late = await waiting;
    assert.deepEqual([done.commit?.seq, done.commit?.tieFree, late.commit?.seq, late.commit?.tieFree], [1, true, 2, false]);
    assert.deepEqual(await valuesAt("ties", keysFrom(0, 100), T), keysFrom(0, 100).map((k) => (k < 50 ? 1 : 2)));
  });

  it(
    "a tie with a commit published during the other ingestion's tie check is still detected",
    async () => {
      // A large committed file in 2024-02-01 makes the tie check of `slow` (which has a row that day) take a while.
      const big = join(dir, "race-big.parquet");
      const writer = await DuckDb.open();
      await writer.run(`COPY (SELECT i % 100 AS driver_id, TIMESTAMPTZ '2024-02-01 00:00:00+00' + to_microseconds(i) AS ts, ts AS created, 0.0 AS value FROM range(2000000) t(i)) TO '${big}' (FORMAT parquet)`);
      writer.close();
      await store.ingest("race", { file: big });
      const fast = await csvFile(tiedRows("low", 1));
      const slow = await csvFile([...tiedRows("high", 2), { driver_id: 0, ts: new Date("2024-02-01T12:00:00Z"), created: T, value: 3 }]);
      const [barrierSlow, barrierFast] = [join(dir, "barrier-race-slow"), join(dir, "barrier-race-fast")];
      const running = [ingestInChild("race", slow, { at: "renamed", barrier: barrierSlow }), ingestInChild("race", fast, { at: "renamed", barrier: barrierFast })];
      await Promise.all([arrived(barrierSlow, 1, running), arrived(barrierFast, 1, running)]);
      await release(barrierSlow);
      await sleep(1);
      await release(barrierFast);
      const [late, early] = (await Promise.all(running)).sort((x, y) => (y.commit?.seq ?? 0) - (x.commit?.seq ?? 0));
      assert.deepEqual([early?.commit?.tieFree, late?.commit?.tieFree], [true, false], `commit ${late?.commit?.seq} ties with commit ${early?.commit?.seq}`);
      assert.deepEqual(await valuesAt("race", keysFrom(0, 100), T), keysFrom(0, 100).map((k) => (k < 50 ? 1 : 2)));
    },
  );

  it("a sweep never touches a finished or a running ingestion, only one whose process died", async () => {
    const layout = new ViewVersionLayout(store.config.offline.path, "swept", 1);
    await store.ingest("swept", { file: await csvFile(rowsFor(0, 10)) });
    const [commit] = await readCommits(layout);
    const partition = join(layout.dir, "date=2024-03-01");
    await mkdir(partition, { recursive: true });
    const running = { id: "runningid1", pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
    const crashed = { id: "crashedid1", pid: await deadPid(), host: hostname(), startedAt: new Date().toISOString() };
    for (const marker of [running, crashed]) {
      await writeFile(layout.pendingFile(marker.id), JSON.stringify(marker));
      await writeFile(join(partition, `part-${marker.id}-0.parquet`), "renamed, not yet committed");
    }
    assert.deepEqual(await sweepOrphans(layout), [crashed.id]);
    const onDisk = (await readdir(layout.dir, { recursive: true })).filter((p) => p.startsWith("date=") && p.endsWith(".parquet"));
    assert.deepEqual(onDisk.sort(), [...(commit?.files.map((f) => f.path) ?? []), join("date=2024-03-01", "part-runningid1-0.parquet")].sort());
    assert.deepEqual(await readdir(layout.pendingDir), ["runningid1.json"]);
    await rm(layout.pendingFile(running.id));
    await rm(join(partition, `part-${running.id}-0.parquet`));
    assert.deepEqual(await valuesAt("swept", keysFrom(0, 10), new Date(T.getTime() + 48 * HOUR)), keysFrom(0, 10).map((k) => k + 0.25));
  });

  it("the commit files are whole JSON documents numbered without gaps", async () => {
    for (const view of ["rides", "ties"]) {
      const folder = join(store.config.offline.path, view, "v1", "_commits");
      const names = (await readdir(folder)).sort();
      assert.deepEqual(names, names.map((_, i) => `${String(i + 1).padStart(10, "0")}.json`));
      for (const [i, name] of names.entries()) assert.equal((JSON.parse(await readFile(join(folder, name), "utf8")) as OfflineCommit).seq, i + 1);
    }
  });
});

/** The pid of a process that has exited (so a marker naming it is a crashed ingestion's). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await new Promise((resolve) => child.on("exit", resolve));
  return child.pid!;
}
