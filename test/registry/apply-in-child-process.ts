/**
 * A separate process for sqlite-cross-process.test.ts: applies one view to a SQLite registry
 * file at an agreed moment, so several processes race on the same file the way two CI jobs or
 * two terminals would. Not a test itself (the runner only picks up *.test.js).
 *
 * Usage: node apply-in-child-process.js <registry file> <project> <view name> <start at, epoch ms>
 * It loads the registry first, then waits for the start time before planning and committing,
 * so every process that booted in time plans against the same revision.
 * Prints one JSON line and exits 0 when applied, 3 on a registry conflict, 1 on anything else.
 */
import { RegistryConflictError } from "../../src/errors.js";
import { applyRepo } from "../../src/registry/apply.js";
import { SqliteRegistryStore } from "../../src/registry/sqlite-registry-store.js";
import { driverStats, repoOf } from "./definitions-fixtures.js";
import { withLoad } from "./with-load.js";

export const CONFLICT_EXIT_CODE = 3;

export interface ChildReport {
  readonly view: string;
  readonly outcome: "applied" | "conflict";
  readonly loadedRevision: number;
  readonly revision?: number;
  readonly code?: string;
}

async function main(file: string, project: string, view: string, startAt: number): Promise<void> {
  const store = new SqliteRegistryStore(file, project);
  let loadedRevision = -1;
  const waitingStore = withLoad(store, async () => {
    const snapshot = await store.load();
    loadedRevision = snapshot.revision;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
    return snapshot;
  });
  try {
    const { revision } = await applyRepo(waitingStore, repoOf(driverStats({ name: view })), view);
    console.log(JSON.stringify({ view, outcome: "applied", loadedRevision, revision } satisfies ChildReport));
  } catch (error) {
    if (!(error instanceof RegistryConflictError)) throw error;
    console.log(JSON.stringify({ view, outcome: "conflict", loadedRevision, code: error.code } satisfies ChildReport));
    process.exitCode = CONFLICT_EXIT_CODE;
  } finally {
    await store.close();
  }
}

const [file, project, view, startAt] = process.argv.slice(2);
if (process.argv[1]?.endsWith("apply-in-child-process.js")) {
  if (file === undefined || project === undefined || view === undefined || startAt === undefined) {
    console.error("usage: node apply-in-child-process.js <registry file> <project> <view name> <start at, epoch ms>");
    process.exit(1);
  }
  await main(file, project, view, Number(startAt));
}
