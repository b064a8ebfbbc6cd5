import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, rmSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./postgres-server.js";

/**
 * A throwaway `redis-server` for one test file, in the style of postgres-server.ts: a real
 * server (real eviction, auth, crashes) without a shared one whose leftovers couple tests.
 * Start-up takes ~10 ms, so one per file (or per describe) is cheap; tests isolate themselves
 * with `randomPrefix()`. The server is a child process of the test process (no daemonizing), so
 * `kill()` can simulate a crash and `restart()` bring it back on the same port. Persistence is
 * off (`save ""`, `appendonly no`) unless a test's extra config lines turn it on.
 *
 * The helpers talk to the server over raw RESP (`redisCommand`) so they need no npm client.
 */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** redis://127.0.0.1:<port> (no auth unless the config lines set some). */
  readonly url: string;
  /** Stops the server (SIGTERM) and deletes its folder; safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL, to simulate a crash; the folder stays so `restart()` can bring the server back. */
  kill(): Promise<void>;
  /** Graceful stop (SIGTERM) that keeps the folder, e.g. to take a cluster node down. */
  shutdown(): Promise<void>;
  /** Starts the server again on the same port, folder and config (stopping it first if it runs). */
  restart(): Promise<void>;
  /** SIGSTOP: the server hangs with its connections open and answers nothing (a stuck node or failover). */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
}

export interface RedisOptions {
  /** Extra redis.conf lines, e.g. `requirepass s3cret`, `user app on >pw ~app:* +@all`, `maxmemory 2mb`. */
  readonly config?: readonly string[];
  /** Cluster mode (redis-cluster.ts): cluster-enabled, nodes.conf in the folder, a free bus port. */
  readonly cluster?: boolean;
}

const START_ATTEMPTS = 3;
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const COMMAND_TIMEOUT_MS = 10_000;
const HOST = "127.0.0.1";

/** Last resort when the test process exits without running `after` hooks: never leave a server behind. */
const running = new Set<() => void>();
process.on("exit", () => running.forEach((killNow) => killNow()));

export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), "strata-redis-"));
  const confFile = join(dir, "redis.conf");
  const logFile = join(dir, "redis.log");
  const stderrFile = join(dir, "stderr.log"); // config errors are printed before the log file opens
  let spawnError: Error | undefined;
  let child: ChildProcess | undefined;
  let exited = Promise.resolve();
  let port = 0;

  const killNow = (): void => {
    if (child?.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  running.add(killNow);

  /** Spawns redis-server on `port` (config already written); true once it accepts commands. */
  async function launch(): Promise<boolean> {
    const logStart = (await readFile(logFile).catch(() => Buffer.alloc(0))).length;
    const stderr = openSync(stderrFile, "w");
    const proc = spawn("redis-server", [confFile], { stdio: ["ignore", "ignore", stderr] });
    closeSync(stderr);
    proc.unref(); // a server a test forgot to stop must not keep the process alive; the exit hook kills it
    child = proc;
    exited = new Promise((resolve) => {
      proc.once("exit", () => resolve());
      proc.once("error", (error) => {
        spawnError = error; // e.g. ENOENT: redis-server is not installed
        resolve();
      });
    });
    let gone = false;
    void exited.then(() => (gone = true));
    // Our own log saying "Ready" proves *we* bound the port; a PING alone could reach a server
    // that won a port race against us.
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!gone && Date.now() < deadline) {
      const log = (await readFile(logFile).catch(() => Buffer.alloc(0))).subarray(logStart).toString();
      if (log.includes("Ready to accept connections")) {
        const reply = await redisCommand(port, "PING").catch((error: unknown) => error);
        // NOAUTH or a refused default user still proves the server answers; LOADING does not.
        if (!(reply instanceof Error) || (reply instanceof RedisError && !reply.message.startsWith("LOADING"))) return true;
      }
      await sleep(20);
    }
    if (!gone) await halt("SIGKILL");
    return false;
  }

  async function halt(signal: NodeJS.Signals): Promise<void> {
    const proc = child;
    if (proc === undefined || proc.exitCode !== null || (proc.signalCode !== null && proc.signalCode !== "SIGSTOP")) return;
    proc.kill("SIGCONT"); // a paused server must run to handle SIGTERM
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill("SIGKILL"), STOP_TIMEOUT_MS); // also keeps the event loop alive meanwhile
    await exited;
    clearTimeout(timer);
  }

  async function startFailure(attempts: number): Promise<Error> {
    if (spawnError !== undefined) return new Error(`cannot run redis-server (install it with \`bash scripts/ensure-packages.sh\`)`, { cause: spawnError });
    const output = (await Promise.all([stderrFile, logFile].map((file) => readFile(file, "utf8").catch(() => "")))).join("");
    return new Error(`redis-server on port ${port} did not start after ${attempts} attempt(s); output:\n${output.slice(-4000)}`);
  }

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      running.delete(killNow);
      await halt("SIGTERM");
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    })());

  try {
    for (let attempt = 1; ; attempt++) {
      // The ports were free a moment ago; another process may take them first, so retry with new ones.
      port = await freePort();
      const cluster = options.cluster
        ? ["cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-node-timeout 2000", `cluster-port ${await freePort()}`]
        : [];
      const base = [`port ${port}`, `bind ${HOST}`, 'save ""', "appendonly no", "daemonize no", `dir "${dir}"`, `logfile "${logFile}"`];
      await writeFile(confFile, [...base, ...cluster, ...(options.config ?? [])].join("\n") + "\n");
      if (await launch()) break;
      if (attempt >= START_ATTEMPTS) throw await startFailure(attempt);
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    stop,
    kill: () => halt("SIGKILL"),
    pause: () => void child?.kill("SIGSTOP"),
    resume: () => void child?.kill("SIGCONT"),
    shutdown: () => halt("SIGTERM"),
    async restart() {
      if (stopped !== undefined) throw new Error(`redis-server on port ${port} was stopped for good; start a new one`);
      await halt("SIGTERM");
      for (let attempt = 1; !(await launch()); attempt++) {
        if (attempt >= START_ATTEMPTS) throw await startFailure(attempt);
        await sleep(200 * attempt); // same port this time: wait for whoever holds it
      }
    },
  };
}

/**
 * Starts one server before the tests of the current `describe` (or file) and stops it after
 * them. Call it in the describe body, not inside a hook (see `usePostgres` for why).
 *
 * @example
 * describe("redis online store", () => {
 *   const redis = useRedis({ config: ["maxmemory 2mb"] });
 *   it("...", () => new RedisOnlineStore(redis.url(), randomPrefix()));
 * });
 */
export function useRedis(options?: RedisOptions): { url(): string; server(): RedisServer } {
  let started: RedisServer | undefined;
  before(async () => {
    started = await startRedis(options);
  });
  after(() => started?.stop());
  const server = (): RedisServer => {
    if (started === undefined) throw new Error("the Redis server is not running: useRedis() starts it in a before hook");
    return started;
  };
  return { url: () => server().url, server };
}

/** A key prefix no other test uses (e.g. "strata:t:3f9a0c1b2d4e:"): each test gets its own namespace. */
export function randomPrefix(prefix = "strata:t"): string {
  return `${prefix}:${randomBytes(6).toString("hex")}:`;
}

/** A random key prefix in the form strata.yaml's `online.cache.keyPrefix` accepts (no ":"). */
export function randomKeyPrefix(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString("hex")}`;
}

// ---- A minimal RESP2 client: one command per connection, enough for set-up and inspection. ----

/** An error reply (`-ERR ...`, `-MOVED ...`, `-ASK ...`); the message is the reply without the dash. */
export class RedisError extends Error {
  override name = "RedisError";
}

/** Bulk strings arrive as Buffers; `redisCommand` turns them into UTF-8 strings. */
export type RawReply = string | number | null | Buffer | RedisError | RawReply[];
export type RedisReply = string | number | null | RedisError | RedisReply[];

/** Sends one command to 127.0.0.1:`port` on a fresh connection; an error reply rejects with `RedisError`. */
export async function redisCommand(port: number, ...args: (string | number | Buffer)[]): Promise<RedisReply> {
  const text = (reply: RawReply): RedisReply => (Buffer.isBuffer(reply) ? reply.toString("utf8") : Array.isArray(reply) ? reply.map(text) : reply);
  return text(await rawRedisCommand(port, args));
}

/** Like `redisCommand`, but bulk strings stay Buffers (binary-safe, e.g. keys to MIGRATE). */
export function rawRedisCommand(port: number, args: readonly (string | number | Buffer)[]): Promise<RawReply> {
  const parts = args.map((arg) => (Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg))));
  const request = Buffer.concat([Buffer.from(`*${parts.length}\r\n`), ...parts.flatMap((part) => [Buffer.from(`$${part.length}\r\n`), part, Buffer.from("\r\n")])]);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port });
    let received = Buffer.alloc(0);
    socket.setTimeout(COMMAND_TIMEOUT_MS, () => socket.destroy(new Error(`${HOST}:${port} did not answer ${String(args[0])} within ${COMMAND_TIMEOUT_MS} ms`)));
    socket.once("error", reject);
    socket.once("close", () => reject(new Error(`${HOST}:${port} closed the connection before answering ${String(args[0])}`)));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      try {
        const parsed = parseReply(received, 0);
        if (parsed === undefined) return; // incomplete: wait for more
        socket.destroy();
        if (parsed[0] instanceof RedisError) reject(parsed[0]);
        else resolve(parsed[0]);
      } catch (error) {
        socket.destroy(error as Error); // a reply we cannot parse: fail through the "error" handler
      }
    });
    socket.write(request);
  });
}

/** Parses one reply at `at`: [reply, offset after it], or undefined while incomplete. */
function parseReply(data: Buffer, at: number): [RawReply, number] | undefined {
  const lineEnd = data.indexOf("\r\n", at);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(data[at] ?? 0);
  const line = data.toString("utf8", at + 1, lineEnd);
  const next = lineEnd + 2;
  if (type === "+") return [line, next];
  if (type === "-") return [new RedisError(line), next];
  if (type === ":") return [Number(line), next];
  if (type === "$") {
    const length = Number(line);
    if (length < 0) return [null, next];
    return data.length < next + length + 2 ? undefined : [data.subarray(next, next + length), next + length + 2];
  }
  if (type === "*") {
    const items: RawReply[] = [];
    let offset = next;
    for (let i = 0; i < Number(line); i++) {
      const item = parseReply(data, offset);
      if (item === undefined) return undefined;
      [items[i], offset] = item;
    }
    return [Number(line) < 0 ? null : items, offset];
  }
  throw new Error(`unexpected RESP reply type ${JSON.stringify(type)}`);
}

