import { spawn, type ChildProcess } from "node:child_process";
import { strataBin, strataEnv } from "./cli.js";

/** A long-running `strata` command (serve, stream run) in its own process, on the port it printed. */
export interface CliProcess {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** What it printed on stderr so far. */
  stderr(): string;
  /** SIGTERM and wait (SIGKILL after 5 s); safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL and wait (a crash). */
  kill(): Promise<void>;
}

/** The feature server is one such process. */
export type ServerProcess = CliProcess;

const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
const running = new Set<ChildProcess>();
process.on("exit", () => running.forEach((c) => c.kill("SIGKILL")));

/**
 * Starts `strata <args>` and resolves once it prints an http://127.0.0.1:<port> address; rejects
 * if it exits first or prints none within 30 s (with what it printed).
 */
export async function startCliProcess(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliProcess> {
  const child = spawn(strataBin, args, { env: { ...process.env, ...strataEnv, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
    running.delete(child);
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`strata ${args.join(" ")} printed no address within ${START_TIMEOUT_MS} ms\nstdout: ${stdout}\nstderr: ${stderr}`)), START_TIMEOUT_MS);
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        stdout += d;
        const match = /http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
        if (match === null) return;
        clearTimeout(timer);
        resolve(Number(match[1]));
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`strata ${args.join(" ")} exited (${code ?? signal}) before listening\nstdout: ${stdout}\nstderr: ${stderr}`));
      });
    });
    return { port, url: `http://127.0.0.1:${port}`, child, stderr: () => stderr, stop: () => end("SIGTERM"), kill: () => end("SIGKILL") };
  } catch (error) {
    await end("SIGKILL");
    throw error;
  }
}

/** `strata -C <dir> serve --port 0`. */
export function startServerProcess(dir: string, env: NodeJS.ProcessEnv = {}): Promise<CliProcess> {
  return startCliProcess(["-C", dir, "serve", "--port", "0"], env);
}
