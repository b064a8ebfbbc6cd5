import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { spawn } from "node:child_process";
import { FeatureStore } from "../../src/feature-store.js";
import type { ErasureRecord } from "../../src/erasure/erasure-record.js";
import { cliJson, runCli, runProcess } from "../helpers/cli.js";
import { makeProject } from "../helpers/project.js";
import { erasureRows, filesHoldingBytes, loadErasureProject, OTHERS, rowsPerCustomer, SUBJECT } from "./erasure-project.js";

const child = fileURLToPath(new URL("./erase-child.js", import.meta.url));

async function project(perCustomer?: number): Promise<string> {
  const dir = await makeProject();
  const store = await FeatureStore.open(dir);
  try {
    await loadErasureProject(store, Date.now(), { perCustomer });
    await store.materialize();
  } finally {
    await store.close();
  }
  return dir;
}

async function erasures(dir: string): Promise<ErasureRecord[]> {
  const store = await FeatureStore.open(dir);
  try {
    return await store.registry.erasures();
  } finally {
    await store.close();
  }
}

/** Runs `strata erase --verify` and returns what remains per copy (exit 0 exactly when nothing does). */
async function remaining(dir: string): Promise<number> {
  const run = await runCli(["-C", dir, "erase", "--verify", `customer_id=${SUBJECT}`, "--json"]);
  const left = (JSON.parse(run.stdout) as { remaining: { count: number }[] }).remaining.reduce((n, r) => n + r.count, 0);
  assert.equal(run.code, left === 0 ? 0 : 1, run.stdout);
  return left;
}

describe("a killed erase resumes and completes", () => {
  for (const step of ["online", "offline"]) {
    it(`killed right after the ${step} step: the next erase continues the same erasure (same id and boundary) to the end`, async () => {
      const dir = await project();
      const killed = await runProcess(process.execPath, [child, dir, `customer_id=${SUBJECT}`], { env: { STRATA_KILL_AFTER: step } });
      assert.ok(killed.code !== 0 && killed.stdout === "", "killed before printing a receipt");
      const [unfinished] = await erasures(dir);
      assert.equal(unfinished?.status, "running");
      assert.ok(unfinished.steps.some((s) => s.step === step) && !unfinished.steps.some((s) => s.step === "serving-log"));
      assert.ok((await remaining(dir)) > 0 || step === "offline", "after the online step alone, the offline files still hold the subject");
      const done = await cliJson<ErasureRecord>(["-C", dir, "erase", "--entity", `customer_id=${SUBJECT}`]);
      assert.deepEqual([done.id, done.boundaryMicros, done.status], [unfinished.id, unfinished.boundaryMicros, "done"]);
      assert.equal((await erasures(dir)).length, 1, "one erasure in the ledger");
      assert.equal(await remaining(dir), 0);
      assert.deepEqual(await filesHoldingBytes(join(dir, ".strata", "offline"), SUBJECT), []);
    });
  }

  it("killed at random points of a large erase (kill -9), then run again: completes with nothing left and the other subjects intact", async () => {
    const dir = await project(400);
    const store = await FeatureStore.open(dir);
    const before = await rowsPerCustomer(store, "customer_profile");
    await store.close();
    const kills: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const proc = spawn(process.execPath, [child, dir, `customer_id=${SUBJECT}`], { stdio: "ignore" });
      const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
      const delay = 150 + Math.floor(Math.random() * 900);
      await Promise.race([sleep(delay), exited]);
      proc.kill("SIGKILL");
      await exited;
      kills.push(delay);
    }
    const done = await cliJson<ErasureRecord>(["-C", dir, "erase", "--entity", `customer_id=${SUBJECT}`]);
    assert.equal(done.status, "done", `killed after ${kills.join(", ")} ms`);
    assert.equal(await remaining(dir), 0);
    const reopened = await FeatureStore.open(dir);
    const after = await rowsPerCustomer(reopened, "customer_profile");
    await reopened.close();
    for (const c of OTHERS) assert.equal(after.get(c), before.get(c));
    assert.equal(after.get(SUBJECT), undefined);
  });
});

describe("erase --defer-compaction, then strata compact", () => {
  it("hides the subject from training sets at once, and compact removes the rows", async () => {
    const dir = await project();
    const labels = [{ customer_id: SUBJECT, event_timestamp: new Date() }, { customer_id: OTHERS[0], event_timestamp: new Date() }];
    const spendOf = async (): Promise<unknown[]> => {
      const store = await FeatureStore.open(dir);
      try {
        const set = await store.getHistoricalFeatures({ entities: labels, features: ["customer_profile:spend", "customer_merchant:visits"].slice(0, 1) });
        const rows = await set.toRows();
        await set.close();
        return rows.map((r) => r.spend);
      } finally {
        await store.close();
      }
    };
    const [subjectBefore, otherBefore] = await spendOf();
    assert.notEqual(subjectBefore, null);
    const receipt = await cliJson<ErasureRecord>(["-C", dir, "erase", "--entity", `customer_id=${SUBJECT}`, "--defer-compaction"]);
    assert.equal(receipt.offlinePending, true);
    assert.deepEqual(await spendOf(), [null, otherBefore], "the tombstone hides the subject's offline rows at once");
    assert.ok((await remaining(dir)) > 0, "the files still hold them");
    const compacted = await cliJson<ErasureRecord[]>(["-C", dir, "compact"]);
    assert.deepEqual(compacted.map((e) => [e.id, e.offlinePending]), [[receipt.id, false]]);
    assert.equal(await remaining(dir), 0);
    assert.deepEqual(await spendOf(), [null, otherBefore]);
    assert.deepEqual(await cliJson(["-C", dir, "compact"]), [], "nothing left to compact");
  });
});

describe("after an erasure, a re-ingested source cannot bring the subject back", () => {
  it("ingestion leaves out the subject's rows from at or before the erasure, and keeps newer ones", async () => {
    const dir = await project();
    await cliJson(["-C", dir, "erase", "--entity", `customer_id=${SUBJECT}`]);
    const store = await FeatureStore.open(dir);
    try {
      const record = (await store.snapshot()).views.find((v) => v.name === "customer_profile")!;
      const old = erasureRows(Date.now()).profile;
      const report = await store.ingestRows(record, old, "ts");
      assert.equal(report.erased, old.filter((r) => r.customer_id === SUBJECT).length);
      assert.equal(report.rows, old.length - report.erased);
      const later = new Date(Date.now() + 60_000).toISOString();
      const fresh = await store.ingestRows(record, [{ customer_id: SUBJECT, ts: later, spend: 1, tier: "new" }], "ts");
      assert.deepEqual([fresh.rows, fresh.erased], [1, 0], "data from after the erasure is new data");
    } finally {
      await store.close();
    }
    assert.equal(await remaining(dir), 0, "the new row is not a remnant");
  });
});
