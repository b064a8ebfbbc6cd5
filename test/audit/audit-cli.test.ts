import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { cliJson, runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp-dir.js";

interface ShownEntry {
  seq: number;
  actor: string;
  action: string;
  object: string;
  details: Record<string, unknown>;
}

/**
 * The audit trail through the CLI on a real project: management actions land in the chain with
 * their actor, `verify` passes, then edits made straight in the registry's SQLite file are caught
 * (exit 1), and a truncated tail is caught against the anchor from `audit head`.
 */
describe("strata audit", () => {
  let dir: string;
  const env = { STRATA_ACTOR: "ci-bot", STRATA_AUDIT_KEY: "s3cret" };
  const registry = (): Database.Database => new Database(join(dir, ".strata", "registry.db"));

  before(async () => {
    dir = join(await tempDir(), "audited");
    assert.equal((await runCli(["init", dir])).code, 0);
    for (const args of [["apply"], ["ingest", "driver_hourly_stats"], ["materialize", "--end", "2030-01-01T00:00:00Z"]]) {
      const run = await runCli(["-C", dir, ...args, "--json"], { env });
      assert.equal(run.code, 0, run.stderr);
    }
  });

  it("records apply, ingest and materialize with actor, object and details; filters them", async () => {
    const all = await cliJson<ShownEntry[]>(["-C", dir, "audit", "show"]);
    assert.deepEqual(all.map((e) => [e.seq, e.actor, e.action]), [[1, "ci-bot", "apply"], [2, "ci-bot", "ingest"], [3, "ci-bot", "materialize"]]);
    assert.equal(all[1]!.object, "featureView:driver_hourly_stats");
    assert.equal(all[1]!.details.rows, 1808);
    assert.deepEqual((await cliJson<ShownEntry[]>(["-C", dir, "audit", "show", "--action", "ingest"])).map((e) => e.seq), [2]);
    assert.deepEqual((await cliJson<ShownEntry[]>(["-C", dir, "audit", "show", "--object", "featureView:*"])).map((e) => e.seq), [2, 3]);
    assert.deepEqual(await cliJson<ShownEntry[]>(["-C", dir, "audit", "show", "--actor", "someone-else"]), []);
    assert.deepEqual(await cliJson<ShownEntry[]>(["-C", dir, "audit", "show", "--until", "2000-01-01T00:00:00Z"]), []);
    const bad = await runCli(["-C", dir, "audit", "show", "--since", "yesterday"]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--since "yesterday" is not a time/);
  });

  it("verifies the intact chain with its signatures, and catches an edit made in the database", async () => {
    const ok = await cliJson<{ ok: boolean; entries: number; signaturesChecked: boolean }>(["-C", dir, "audit", "verify"], { env });
    assert.deepEqual([ok.ok, ok.entries, ok.signaturesChecked], [true, 3, true]);
    const db = registry();
    const original = db.prepare("SELECT entry FROM audit_log WHERE seq = 2").get() as { entry: string };
    try {
      db.prepare("UPDATE audit_log SET entry = ? WHERE seq = 2").run(original.entry.replace('"rows":1808', '"rows":9'));
      const tampered = await runCli(["-C", dir, "audit", "verify"], { env });
      assert.equal(tampered.code, 1);
      assert.match(tampered.stdout, /entry 2 altered/);
    } finally {
      db.prepare("UPDATE audit_log SET entry = ? WHERE seq = 2").run(original.entry);
      db.close();
    }
    assert.equal((await runCli(["-C", dir, "audit", "verify"], { env })).code, 0, "restored");
  });

  it("catches a truncated tail against the anchor printed by `audit head`", async () => {
    const head = (await runCli(["-C", dir, "audit", "head"], { env })).stdout.trim();
    assert.match(head, /^3:[0-9a-f]{64}$/);
    const db = registry();
    db.prepare("DELETE FROM audit_log WHERE seq = 3").run();
    db.close();
    assert.equal((await runCli(["-C", dir, "audit", "verify"], { env })).code, 0, "without the anchor a shorter chain is consistent");
    const truncated = await runCli(["-C", dir, "audit", "verify", "--anchor", head], { env });
    assert.equal(truncated.code, 1);
    assert.match(truncated.stdout, /entry 3 truncated: the log ends at entry 2/);
  });
});
