import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ViewVersionLayout } from "../../src/offline/offline-layout.js";
import { sweepOrphans } from "../../src/offline/orphan-sweep.js";
import { tempDir } from "../helpers/temp-dir.js";

describe("orphan sweep", () => {
  it("removes a pending marker's temporary file that a killed writer left, and keeps a live writer's", async () => {
    const layout = new ViewVersionLayout(await tempDir(), "v", 1);
    await mkdir(layout.pendingDir, { recursive: true });
    const deadPid = spawnSync(process.execPath, ["-e", "0"]).pid; // exited: its pid names no live process (barring reuse)
    const dead = `abc.json.tmp-${deadPid}-0123456789ab`;
    const live = `def.json.tmp-${process.pid}-0123456789ab`;
    await writeFile(join(layout.pendingDir, dead), '{"id":"ab');
    await writeFile(join(layout.pendingDir, live), "");
    await sweepOrphans(layout);
    assert.deepEqual(await readdir(layout.pendingDir), [live]);
  });
});
