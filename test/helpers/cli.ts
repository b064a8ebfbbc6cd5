import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The compiled CLI entry point (what bin/strata runs). */
export const cliPath = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
/** The launcher a user runs (bin/strata: node with its flags); long-running processes start through it, with `strataEnv`. */
export const strataBin = fileURLToPath(new URL("../../../bin/strata", import.meta.url));
/** Makes bin/strata run the node that runs this process, not whichever is first on PATH. */
export const strataEnv = { STRATA_NODE: process.execPath };

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Written to the program's stdin (then closed). */
  readonly input?: string;
  /** Killed (SIGKILL) after this long; the result says so in stderr. */
  readonly timeoutMs?: number;
}

/** Runs a program to completion; never throws on a non-zero exit. */
export function runProcess(file: string, args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 0, killSignal: "SIGKILL", maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const killed = error !== null && error.killed ? `\n(killed after ${options.timeoutMs} ms)` : "";
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr: stderr + killed });
    });
    child.stdin?.end(options.input ?? "");
  });
}

/** Runs `strata <args>` in a child process; never throws on a non-zero exit. */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  return runProcess(process.execPath, [cliPath, ...args], options);
}

/** Runs a command expected to succeed with --json output, and parses it. */
export async function cliJson<T = unknown>(args: readonly string[], options?: RunOptions): Promise<T> {
  const result = await runCli([...args, "--json"], options);
  if (result.code !== 0) throw new Error(`strata ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}
