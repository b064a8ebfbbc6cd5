import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on Linux for x86 and arm). */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) that a process, or one of its threads (`tid`), has used so far,
 * from /proc (Linux). A whole process's count includes its threads that have ended.
 *
 * @example
 * const before = cpuSeconds(pid);
 * // ... work ...
 * const used = cpuSeconds(pid) - before;
 */
export function cpuSeconds(pid: number, tid?: number): number {
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces, in parentheses): state is the first, utime the 12th, stime the 13th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}
