import { rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const created: string[] = [];
// Removed when the test process exits (node --test runs each file in its own process), so
// folders made in hooks live as long as the tests that use them.
process.on("exit", () => created.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A fresh folder under the OS temp dir, removed when the test file's process exits. */
export async function tempDir(prefix = "strata-test-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}
