import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { batchSource, collectDefinitions, compileDefinitions, entity, featureView, Float64, Int64 } from "../../src/index.js";
import { FeatureStore } from "../../src/feature-store.js";
import { readCommits, type OfflineCommit } from "../../src/offline/commit-log.js";
import { DuckDb } from "../../src/offline/duckdb.js";
import { ViewVersionLayout } from "../../src/offline/offline-layout.js";
import type { PendingMarker } from "../../src/offline/orphan-sweep.js";
import { openProject } from "../helpers/project.js";

/**
 * SIGKILL in the middle of an ingestion (a child process running `ingestFile`): retrieval then
 * sees every committed ingestion in full and nothing of the crashed one (unless its commit was
 * published, then all of it), and the next ingestion sweeps what the crash left behind.
 */

const CHILD = fileURLToPath(new URL("./ingest-child.js", import.meta.url));
const VIEW = "trips";
const KEYS = 1000; // keys per batch; batch n owns keys n*100000 .. n*100000+KEYS-1
const BIG_ROWS = Number(process.env.STRATA_CRASH_ROWS ?? 300_000);
const RUNS = Number(process.env.STRATA_CRASH_RUNS ?? 6);
const AFTER_ALL = new Date("2030-01-01T00:00:00Z");

interface Batch {
  readonly no: number;
  readonly file: string;
  readonly rows: number;
  readonly keys: number;
}

interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

let store: FeatureStore;
let dir: string;
let viewDir: string;
let writer: DuckDb;
const batches: Batch[] = [];
const committed = new Set<number>();

/** Batch n: `rows` rows over `keys` keys, one per key and hour from 2024-01-01; the last row of each key has seq = rows/keys - 1. */
async function newBatch(rows: number, keys = KEYS): Promise<Batch> {
  const no = batches.length + 1;
  const file = join(dir, `batch-${no}.parquet`);
  const ts = `TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_hours(i // ${keys})`;
  const select = `SELECT ${no} * 100000 + i % ${keys} AS driver_id, ${ts} AS ts, ${ts} + INTERVAL 1 MINUTE AS created, ${no} AS batch, i // ${keys} AS seq, i / 7 AS value`;
  await writer.run(`COPY (${select} FROM range(${rows}) t(i)) TO '${file}' (FORMAT parquet)`);
  const batch = { no, file, rows, keys };
  batches.push(batch);
  return batch;
}

function runChild(file: string, env: Record<string, string> = {}): { pid: number; kill: () => void; exit: Promise<ChildResult> } {
  const child = spawn(process.execPath, [CHILD, dir, VIEW, file], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<ChildResult>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stderr })));
  return { pid: child.pid!, kill: () => child.kill("SIGKILL"), exit };
}

/**
 * The commits, checked: numbered without gaps, whole JSON. (A `.tmp-*` draft, which a kill
 * during publishing can leave and nothing sweeps, is invisible to readers: tolerated here.)
 */
async function commits(): Promise<OfflineCommit[]> {
  const names = (await readdir(join(viewDir, "_commits"))).filter((n) => !n.startsWith(".tmp-")).sort();
  assert.ok(names.every((n, i) => n === `${String(i + 1).padStart(10, "0")}.json`), `only whole, numbered commits: ${names.join(", ")}`);
  const all = await Promise.all(names.map(async (n) => JSON.parse(await readFile(join(viewDir, "_commits", n), "utf8")) as OfflineCommit));
  assert.deepEqual(all.map((c) => c.seq), all.map((_, i) => i + 1));
  return all;
}

/** Ids of pending markers left by process `pid`. */
async function markersOf(pid: number): Promise<string[]> {
  // Markers only (`<id>.json`), not the temporary files they are written through, which a rename
  // removes at any moment; a marker removed between listing and reading is simply gone.
  const names = (await readdir(join(viewDir, "_pending")).catch(() => [])).filter((n) => /^[0-9a-z]+\.json$/.test(n));
  const markers = await Promise.all(names.map(async (n) => readFile(join(viewDir, "_pending", n), "utf8").then((text) => JSON.parse(text) as PendingMarker, () => undefined)));
  return markers.filter((m) => m?.pid === pid).map((m) => m!.id);
}

/** Data files under the view folder (relative), optionally only those of one ingest id. */
async function partFiles(id?: string): Promise<string[]> {
  const all = (await readdir(viewDir, { recursive: true })).filter((p) => /^part-.*\.parquet$/.test(basename(p)));
  return id === undefined ? all : all.filter((p) => basename(p).startsWith(`part-${id}-`));
}

/**
 * A fresh store sees exactly the committed batches: for every key of every batch, the latest
 * row of a committed batch and nothing for the others; the committed files hold every row of
 * each committed batch and no other.
 */
async function assertOnlyCommittedVisible(): Promise<void> {
  const fresh = await FeatureStore.open(dir, { actor: "test" });
  try {
    const entities = batches.flatMap((b) => Array.from({ length: b.keys }, (_, k) => ({ driver_id: b.no * 100000 + k, event_timestamp: AFTER_ALL })));
    const set = await fresh.getHistoricalFeatures({ entities, features: [`${VIEW}:batch`, `${VIEW}:seq`], inclusive: true });
    const got = (await set.toRows()).map((r) => [r.driver_id, r.batch, r.seq]);
    await set.close();
    const want = batches.flatMap((b) => Array.from({ length: b.keys }, (_, k) => [b.no * 100000 + k, ...(committed.has(b.no) ? [b.no, b.rows / b.keys - 1] : [null, null])]));
    assert.deepEqual(got, want);
  } finally {
    await fresh.close();
  }
  const files = (await commits()).flatMap((c) => c.files.map((f) => `'${join(viewDir, f.path)}'`));
  const counts = await writer.rows(`SELECT batch, count(*) AS n FROM read_parquet([${files.join(", ")}]) GROUP BY batch ORDER BY batch`);
  assert.deepEqual(counts.map((c) => [Number(c.batch), Number(c.n)]), batches.filter((b) => committed.has(b.no)).map((b) => [b.no, b.rows]));
}

/** A normal ingestion afterwards: it sweeps the crash's leftovers, and its own data is visible. */
async function assertNextIngestionSweeps(crashedId: string | undefined): Promise<void> {
  const batch = await newBatch(2_000, 100);
  const report = await store.ingest(VIEW, { file: batch.file });
  assert.equal(report.rows, batch.rows);
  committed.add(batch.no);
  if (crashedId !== undefined) assert.deepEqual(await partFiles(crashedId), [], "the crashed ingestion's files are gone");
  assert.deepEqual(await readdir(join(viewDir, "_staging")).catch(() => []), [], "_staging is empty");
  assert.deepEqual(await readdir(join(viewDir, "_pending")).catch(() => []), [], "no pending marker is left");
  const listed = (await commits()).flatMap((c) => c.files.map((f) => f.path));
  assert.deepEqual((await partFiles()).sort(), listed.sort(), "every data file on disk belongs to a commit");
  await assertOnlyCommittedVisible();
}

/** Runs an uninterrupted child ingestion of `batch`, noting when it started writing (its marker) and when it committed (ms from spawn). */
async function timeline(batch: Batch): Promise<{ writing: number; committed: number }> {
  const layout = new ViewVersionLayout(store.config.offline.path, VIEW, 1);
  const started = performance.now();
  const child = runChild(batch.file);
  let exited = false;
  void child.exit.then(() => (exited = true));
  let writing: number | undefined;
  let committedAt: number | undefined;
  while (!exited) {
    if (writing === undefined && (await markersOf(child.pid)).length > 0) writing = performance.now() - started;
    if (committedAt === undefined && (await readCommits(layout)).some((c) => c.source === batch.file)) committedAt = performance.now() - started;
    await sleep(5);
  }
  const result = await child.exit;
  assert.equal(result.code, 0, result.stderr);
  committed.add(batch.no);
  assert.ok(writing !== undefined && committedAt !== undefined, "saw the writing phase and the commit");
  return { writing: Math.round(writing), committed: Math.round(committedAt) };
}

describe("ingestion killed with SIGKILL", () => {
  before(async () => {
    ({ store, dir } = await openProject());
    viewDir = join(store.config.offline.path, VIEW, "v1");
    writer = await DuckDb.open();
    const driver = entity({ name: "driver", joinKeys: ["driver_id"], valueType: Int64 });
    const source = batchSource({ path: "data/trips.parquet", timestampField: "ts", createdTimestampField: "created" });
    await store.apply(compileDefinitions(collectDefinitions({ trips: featureView({ name: VIEW, entities: [driver], schema: { batch: Int64, seq: Int64, value: Float64 }, source }) })));
    const base = await newBatch(20_000);
    await store.ingest(VIEW, { file: base.file });
    committed.add(base.no);
  });
  after(async () => {
    await store.close();
    writer.close();
  });

  for (const point of ["staged", "renamed"] as const) {
    it(`a crash at "${point}" leaves nothing visible, and the next ingestion sweeps it`, async () => {
      const batch = await newBatch(50_000);
      const child = runChild(batch.file, { STRATA_CRASH_AT: point });
      const result = await child.exit;
      assert.equal(result.signal, "SIGKILL", result.stderr);
      const [id] = await markersOf(child.pid);
      assert.ok(id !== undefined, "the crashed ingestion left its pending marker");
      const left = await partFiles(id);
      assert.ok(left.length > 1, "the crash left data files behind");
      assert.ok(left.every((p) => p.startsWith(point === "staged" ? `_staging/${id}/date=` : "date=")), left.join(", "));
      assert.ok(!(await commits()).some((c) => c.id === id), "no commit for the crashed ingestion");
      await assertOnlyCommittedVisible();
      await assertNextIngestionSweeps(id);
    });
  }

  it(`random SIGKILLs (${RUNS} runs of ${BIG_ROWS} rows) show all of an ingestion or none of it`, async (t) => {
    const phases = await timeline(await newBatch(BIG_ROWS));
    t.diagnostic(`uninterrupted run: writing from ${phases.writing} ms, committed at ${phases.committed} ms`);
    for (let run = 0; run < RUNS; run++) {
      const batch = await newBatch(BIG_ROWS);
      // Stratified random delays: even runs before the writing phase, odd runs from it to just past the commit.
      const [from, to] = run % 2 === 0 ? [50, phases.writing] : [phases.writing, phases.committed + 30];
      const delay = Math.round(from + ((to - from) * (Math.floor(run / 2) + Math.random())) / Math.ceil(RUNS / 2));
      const child = runChild(batch.file);
      await sleep(delay);
      child.kill();
      const result = await child.exit;
      const [id] = await markersOf(child.pid);
      const isCommitted = (await commits()).some((c) => c.source === batch.file);
      if (result.code === 0) assert.ok(isCommitted, "an ingestion that finished is committed");
      else assert.equal(result.signal, "SIGKILL", result.stderr);
      if (isCommitted) committed.add(batch.no);
      const drafts = (await readdir(join(viewDir, "_commits"))).filter((n) => n.startsWith(".tmp-"));
      const left = id === undefined ? "" : `, left ingest ${id} (${(await partFiles(id)).length} files${drafts.length > 0 ? ` and commit drafts ${drafts.join(", ")}` : ""})`;
      t.diagnostic(`run ${run}: killed after ${delay} ms: ${isCommitted ? "committed" : "not committed"}${left}`);
      await assertOnlyCommittedVisible();
      // Killed after its commit was linked: its files are data now, not leftovers.
      await assertNextIngestionSweeps(isCommitted ? undefined : id);
    }
  });
});
