import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { promisify } from "node:util";
import pg from "pg";

/**
 * A throwaway PostgreSQL server for one test file: real SQL, real locks, real concurrency,
 * without a shared server whose leftovers make tests depend on each other. One server per
 * file keeps start-up cost (~1 s) out of each test; tests isolate themselves with
 * `randomSchemaName()` instead, each in its own random namespace.
 */
export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust auth, loopback only). */
  readonly url: string;
  /** Stops the server (immediate shutdown) and deletes its data folder; safe to call twice. */
  stop(): Promise<void>;
}

const run = promisify(execFile);
const POSTGRES_ROOT = "/usr/lib/postgresql";
const START_ATTEMPTS = 3;
const READY_TIMEOUT_MS = 30_000;

/** The bin folder of the highest PostgreSQL version installed the Debian way. */
export function postgresBinDir(): string {
  const versions = existsSync(POSTGRES_ROOT) ? readdirSync(POSTGRES_ROOT).filter((v) => /^\d+(\.\d+)?$/.test(v)) : [];
  const usable = versions.filter((v) => existsSync(join(POSTGRES_ROOT, v, "bin", "initdb"))).sort((a, b) => Number(b) - Number(a));
  if (usable[0] === undefined) {
    throw new Error(`no PostgreSQL server found under ${POSTGRES_ROOT}/<version>/bin; install it with \`bash scripts/ensure-packages.sh\``);
  }
  return join(POSTGRES_ROOT, usable[0], "bin");
}

/** initdb refuses to run as root, so as root every server command runs as the `postgres` user. */
const asRoot = process.getuid?.() === 0;

function serverCommand(binary: string, args: readonly string[]): [string, string[]] {
  return asRoot ? ["runuser", ["-u", "postgres", "--", binary, ...args]] : [binary, [...args]];
}

async function runServerCommand(binary: string, args: readonly string[]): Promise<void> {
  const [file, argv] = serverCommand(binary, args);
  try {
    await run(file, argv, { timeout: READY_TIMEOUT_MS });
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`${[file, ...argv].join(" ")} failed: ${stderr || stdout || (error as Error).message}`, { cause: error });
  }
}

/** A loopback port nobody listens on right now (the OS picks it; we release it at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilAccepting(url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query("SELECT 1");
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`PostgreSQL at ${url} did not accept connections within ${READY_TIMEOUT_MS} ms`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/**
 * Starts a fresh server in a temp folder. The caller stops it (`usePostgres` does so with an
 * `after` hook); a server still running when the process exits is stopped then.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const dir = await mkdtemp(join(tmpdir(), "strata-pg-"));
  const data = join(dir, "data");
  const sockets = join(dir, "sockets");
  const log = join(dir, "server.log");
  await mkdir(sockets);
  if (asRoot) await run("chown", ["-R", "postgres:postgres", dir]);

  let started = false;
  let stopped: Promise<void> | undefined;
  const stopNow = (): Promise<void> =>
    (stopped ??= (async () => {
      process.off("exit", stopOnExit);
      if (started) await runServerCommand(join(bin, "pg_ctl"), ["stop", "-D", data, "-m", "immediate", "-w"]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    })());
  /** Last resort when the test process exits without running `after` hooks: never leave a server behind. */
  function stopOnExit(): void {
    if (!started) return;
    const [file, argv] = serverCommand(join(bin, "pg_ctl"), ["stop", "-D", data, "-m", "immediate", "-w"]);
    try {
      execFileSync(file, argv, { stdio: "ignore" });
    } catch {
      // the server is already gone
    }
  }
  process.on("exit", stopOnExit);

  try {
    await runServerCommand(join(bin, "initdb"), ["-D", data, "--auth=trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"]);
    for (let attempt = 1; ; attempt++) {
      // The port was free a moment ago; another process may take it first, so retry with a new one.
      const port = await freePort();
      const options = `-c listen_addresses=127.0.0.1 -p ${port} -k "${sockets}" -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
      started = true; // from here on, stopping must be attempted even if start reports failure
      try {
        await runServerCommand(join(bin, "pg_ctl"), ["start", "-D", data, "-l", log, "-w", "-t", String(READY_TIMEOUT_MS / 1000), "-o", options]);
      } catch (error) {
        if (attempt >= START_ATTEMPTS) {
          const serverLog = await readFile(log, "utf8").catch(() => "");
          throw new Error(`PostgreSQL did not start after ${attempt} attempts; server log:\n${serverLog}`, { cause: error });
        }
        continue;
      }
      const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      await waitUntilAccepting(url);
      return { url, stop: stopNow };
    }
  } catch (error) {
    await stopNow();
    throw error;
  }
}

/**
 * Starts one server before the tests of the current `describe` (or file) and stops it after
 * them. Call it in the describe body (or at file level), not inside a hook: node:test may attach
 * an `after` registered inside a `before` hook to that hook and run it as soon as the hook ends,
 * which would stop the server before the first test.
 *
 * @example
 * describe("postgres registry", () => {
 *   const postgres = usePostgres();
 *   it("...", () => new PostgresRegistryStore(postgres.url(), randomSchemaName(), "p"));
 * });
 */
export function usePostgres(): { url(): string } {
  let server: PostgresServer | undefined;
  before(async () => {
    server = await startPostgres();
  });
  after(() => server?.stop());
  return {
    url() {
      if (server === undefined) throw new Error("the PostgreSQL server is not running: usePostgres() starts it in a before hook");
      return server.url;
    },
  };
}

/** A schema name no other test uses (e.g. "strata_t_3f9a0c1b2d4e"): each test gets its own namespace. */
export function randomSchemaName(prefix = "strata_t"): string {
  return `${prefix}_${randomBytes(6).toString("hex")}`;
}
