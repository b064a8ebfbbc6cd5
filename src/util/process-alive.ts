/**
 * Whether a process of this host runs: what decides that a lock, a staging folder or a scratch
 * folder named by a pid was left by a process that is gone. Pids are host-local, so files written
 * by another host are not judged by this.
 *
 * @example
 * processAlive(process.pid); // true
 */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
