import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./postgres-server.js";

/**
 * A throwaway `nats-server` with JetStream (Debian's package, or the build STRATA_NATS_SERVER
 * names), on a free loopback port, its store in a temporary folder. A child of the test process;
 * `restart()` brings it back on the same port and store (streams and consumers survive, as in production).
 */
export interface NatsServer {
  readonly url: string;
  /** The server's process id while it runs (e.g. to read its CPU time). */
  pid(): number | undefined;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

/** STRATA_NATS_SERVER names another build (e.g. a current release from `go install`) to run the same tests and benchmarks against. */
const binary = process.env.STRATA_NATS_SERVER ?? ["/usr/sbin/nats-server", "/usr/bin/nats-server"].find((p) => existsSync(p)) ?? "nats-server";
const running = new Set<ChildProcess>();
process.on("exit", () => running.forEach((c) => c.kill("SIGKILL")));

/** The version the server started by `startNats` reports (benchmarks print it with their figures). */
export const natsServerVersion = (): string => execFileSync(binary, ["--version"], { encoding: "utf8" }).trim().replace(/^nats-server:\s*/, "");

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${port} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

export async function startNats(): Promise<NatsServer> {
  const dir = await mkdtemp(join(tmpdir(), "strata-nats-"));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawn(binary, ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", join(dir, "js")], { stdio: "ignore" });
    running.add(child);
    await waitForPort(port, 15_000);
  };
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((resolve) => c.once("exit", resolve));
    c.kill(signal);
    await exited;
    running.delete(c);
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    pid: () => child?.pid,
    stop: async () => {
      await end("SIGTERM");
      await rm(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await end("SIGTERM");
      await start();
    },
  };
}
