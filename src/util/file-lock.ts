import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { StorageError } from "../errors.js";
import { processAlive } from "./process-alive.js";

/** How often a waiting process looks at the lock again, and how long it waits in all by default. */
const POLL_MS = 50;
const WAIT_MS = 120_000;

/** Per lock path, the end of this process's last holder's turn. */
const queues = new Map<string, Promise<unknown>>();

/**
 * Runs `work` holding an exclusive lock file holding the owner's pid (written first, then
 * hard-linked into place: the link fails if the lock exists, and a lock is never empty). A lock
 * whose owner has exited is taken over, so a killed holder never blocks the next one.
 * Host-local, as the pid check is. A pid names a process, not a holder: callers in one process
 * take turns before they reach the file, or two of them could take over the same dead owner's
 * lock, the second removing the first's.
 */
export async function withFileLock<T>(path: string, work: () => Promise<T>, waitMs = WAIT_MS): Promise<T> {
  const before = queues.get(path) ?? Promise.resolve();
  const turn = before.catch(() => undefined).then(() => withFileLockHeld(path, work, waitMs));
  const settled = turn.catch(() => undefined);
  queues.set(path, settled);
  void settled.then(() => queues.get(path) === settled && queues.delete(path));
  return turn;
}

async function withFileLockHeld<T>(path: string, work: () => Promise<T>, waitMs: number): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  const mine = `${path}.${process.pid}-${randomBytes(4).toString("hex")}`;
  await writeFile(mine, String(process.pid));
  try {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const taken = await link(mine, path).then(
        () => true,
        (error: NodeJS.ErrnoException) => {
          if (error.code === "EEXIST") return false;
          throw error;
        },
      );
      if (taken) break;
      const owner = await lockOwner(path);
      // Taken over only if it still names the dead owner: another waiter may have taken it over
      // already. One naming this process is a killed earlier run's with the same pid (containers
      // often start each run as the same pid): this process's own holders take turns before the file.
      if (owner > 0 && (owner === process.pid || !processAlive(owner))) {
        if ((await lockOwner(path)) === owner) await rm(path, { force: true });
      }
      else if (Date.now() > deadline) throw new StorageError(`${path} is held by process ${owner} for over ${waitMs / 1000} s`);
      else await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    await rm(mine, { force: true });
  }
  try {
    return await work();
  } finally {
    await rm(path, { force: true });
  }
}

const lockOwner = async (path: string): Promise<number> => Number(await readFile(path, "utf8").catch(() => "0"));
