import { readFileSync } from "node:fs";

/** Peak resident memory (VmHWM) of a running process, in MB, from /proc (Linux). */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]);
  return kb / 1024;
}

/** Current resident memory of a process and all its descendants (e.g. a gunicorn master and its workers), in MB. */
export function treeRssMb(pid: number): number {
  const children = ((): number[] => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter((s) => s !== "").map(Number);
    } catch {
      return [];
    }
  })();
  const own = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  return own + children.reduce((sum, child) => sum + treeRssMb(child), 0);
}
