/**
 * A child process for the crash and concurrency tests: ingests one file into a view of a project.
 *
 *   node ingest-child.js <projectDir> <view> <file>
 *
 * STRATA_CRASH_AT=staged|renamed  SIGKILLs itself at that checkpoint of `ingestFile`.
 * STRATA_PAUSE_AT=staged|renamed  with STRATA_BARRIER=<path>: at that checkpoint, creates
 *   `<path>.<pid>.ready` and blocks until `<path>` exists (so a test can line up two writers).
 * Prints the ingest report as JSON on stdout.
 */
import { existsSync, writeFileSync } from "node:fs";
import { FeatureStore } from "../../src/feature-store.js";
import { ingestFile } from "../../src/offline/ingest.js";
import { latestVersion } from "../../src/registry/registry-records.js";

type Point = "staged" | "renamed";

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function checkpoint(point: Point): void {
  if (process.env.STRATA_CRASH_AT === point) process.kill(process.pid, "SIGKILL");
  const barrier = process.env.STRATA_BARRIER;
  if (process.env.STRATA_PAUSE_AT === point && barrier !== undefined) {
    writeFileSync(`${barrier}.${process.pid}.ready`, point);
    while (!existsSync(barrier)) sleepSync(2);
  }
}

async function main(): Promise<void> {
  const [dir, view, file] = process.argv.slice(2);
  if (dir === undefined || view === undefined || file === undefined) throw new Error("usage: ingest-child.js <projectDir> <view> <file>");
  const store = await FeatureStore.open(dir, { actor: "ingest-child" });
  try {
    const record = latestVersion(await store.snapshot(), view);
    if (record === undefined) throw new Error(`no feature view ${view}`);
    const report = await ingestFile(await store.engine(), { record, offlineRoot: store.config.offline.path, path: file, checkpoint });
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await store.close();
  }
}

await main();
