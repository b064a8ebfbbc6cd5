import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { SqliteRegistryStore } from "../../src/registry/sqlite-registry-store.js";
import { CONFLICT_EXIT_CODE, type ChildReport } from "./apply-in-child-process.js";

/**
 * The embedded registry is one file that several processes may write at once (two terminals,
 * two CI jobs). Separate processes, not instances in one process, are what exercise SQLite's
 * file locking (BEGIN IMMEDIATE + busy timeout) and the revision check together.
 */
const childScript = fileURLToPath(new URL("./apply-in-child-process.js", import.meta.url));
const PROCESSES = 4;
/** Enough for every child to boot and load before the agreed start (~200 ms each; more on a busy machine). */
const BOOT_MARGIN_MS = 1000;

interface ChildResult {
  readonly exitCode: number | null;
  readonly report: ChildReport | undefined;
  readonly stderr: string;
}

function runChild(args: readonly string[]): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childScript, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (exitCode) => {
      const line = stdout.trim().split("\n").at(-1) ?? "";
      resolve({ exitCode, report: line.startsWith("{") ? (JSON.parse(line) as ChildReport) : undefined, stderr });
    });
  });
}

async function race(file: string): Promise<ChildResult[]> {
  const startAt = Date.now() + BOOT_MARGIN_MS;
  return Promise.all(Array.from({ length: PROCESSES }, (_, i) => runChild([file, "p", `view_${i}`, String(startAt)])));
}

describe(`SQLite registry: ${PROCESSES} processes applying at the same moment`, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-cross-process-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const start of ["a new registry file", "an existing registry"] as const) {
    it(`commits each apply whole or not at all, on ${start}`, async (t) => {
      const file = join(dir, `${randomUUID()}.sqlite`);
      if (start === "an existing registry") await new SqliteRegistryStore(file, "p").close();
      const results = await race(file);

      for (const r of results) {
        const ok = (r.exitCode === 0 && r.report?.outcome === "applied") || (r.exitCode === CONFLICT_EXIT_CODE && r.report?.outcome === "conflict" && r.report.code === "REGISTRY_CONFLICT");
        assert.ok(ok, `a child either applied or hit the conflict error; got exit ${r.exitCode}, ${JSON.stringify(r.report)}\n${r.stderr}`);
      }
      const applied = results.flatMap((r) => (r.report?.outcome === "applied" ? [r.report] : [])).sort((a, b) => a.revision! - b.revision!);
      assert.ok(applied.length >= 1, "at least one process applied");
      t.diagnostic(`applied: ${applied.length}, conflicts: ${results.length - applied.length}`);
      for (const a of applied) assert.equal(a.revision, a.loadedRevision + 1, `${a.view} committed on top of the revision it planned against`);
      assert.deepEqual(applied.map((a) => a.revision), applied.map((_, i) => i + 1), "no revision was committed twice");

      const store = new SqliteRegistryStore(file, "p");
      try {
        const snapshot = await store.load();
        assert.equal(snapshot.revision, applied.length);
        assert.deepEqual([...new Set(snapshot.views.map((v) => v.name))].sort(), applied.map((a) => a.view).sort(), "exactly the successful applies left a view");
        assert.deepEqual(
          snapshot.views.filter((v) => v.removedAt === null).map((v) => v.name),
          [applied.at(-1)!.view],
          "the last successful apply's definitions are live (apply is declarative)",
        );
        assert.deepEqual((await store.history()).map((h) => h.actor), applied.map((a) => a.view).reverse());
      } finally {
        await store.close();
      }
      const db = new Database(file, { readonly: true });
      try {
        assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
      } finally {
        db.close();
      }
    });
  }
});
