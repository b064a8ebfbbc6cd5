import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The compiled CLI entry point (what bin/strata runs). */
export const cliPath = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `strata <args>` in a child process; never throws on a non-zero exit. */
export function runCli(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliPath, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr });
    });
  });
}

/** Runs a command expected to succeed with --json output, and parses it. */
export async function cliJson<T = unknown>(args: readonly string[], options?: { cwd?: string }): Promise<T> {
  const result = await runCli([...args, "--json"], options);
  if (result.code !== 0) throw new Error(`strata ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}
