import { spawn } from "node:child_process";

export interface ChildResult {
  readonly wallSeconds: number;
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  /** What the program printed as JSON (each measured program reports one object). */
  readonly report: Record<string, unknown> | undefined;
  readonly stderr: string;
}

/** Runs a measured program to completion (or kills it at `timeoutSeconds`) and reads its JSON report. */
export function runMeasured(command: string, args: readonly string[], options: { timeoutSeconds: number; cwd?: string; env?: NodeJS.ProcessEnv }): Promise<ChildResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutSeconds * 1000);
    child.on("close", (exitCode) => {
      clearTimeout(timer);
      resolve({ wallSeconds: (performance.now() - started) / 1000, exitCode, timedOut, report: lastJson(stdout), stderr });
    });
  });
}

/** The whole output as JSON, else its last line that parses as a JSON object. */
function lastJson(stdout: string): Record<string, unknown> | undefined {
  for (const candidate of [stdout, ...stdout.trim().split("\n").reverse()]) {
    try {
      const value: unknown = JSON.parse(candidate);
      if (typeof value === "object" && value !== null) return value as Record<string, unknown>;
    } catch {
      // not JSON: try the next candidate
    }
  }
  return undefined;
}

/** Throws unless a measured program exited 0 and printed its report. */
export function ensureOk(name: string, r: ChildResult): void {
  if (r.exitCode !== 0 || r.report === undefined) throw new Error(`${name} failed (exit ${r.exitCode}${r.timedOut ? ", timed out" : ""}): ${r.stderr}`);
}
