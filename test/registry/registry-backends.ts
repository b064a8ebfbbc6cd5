import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { PostgresRegistryStore } from "../../src/registry/postgres-registry-store.js";
import type { RegistryStore } from "../../src/registry/registry-store.js";
import { SqliteRegistryStore } from "../../src/registry/sqlite-registry-store.js";
import { randomSchemaName, usePostgres } from "../helpers/postgres-server.js";

/** Opens a store for `project` in one isolated place; call it again for a second connection/instance. */
export type OpenRegistry = (project: string) => RegistryStore;

/**
 * The registry backends, described once so every registry suite runs against both without
 * repeating itself. `useInThisSuite` is called in a describe body and registers the hooks that
 * prepare and clean up what the backend needs (PostgreSQL: one server per suite); `isolate`
 * then gives each test a fresh, empty place (a new SQLite file, a new random schema).
 */
export interface RegistryBackend {
  readonly name: "sqlite" | "postgres";
  useInThisSuite(): void;
  isolate(): OpenRegistry;
}

export function sqliteBackend(): RegistryBackend {
  let dir: string | undefined;
  return {
    name: "sqlite",
    useInThisSuite() {
      // Hooks registered here, in the describe body: an `after` registered inside a `before` hook
      // may run as soon as that hook ends (node:test can attach it to the hook itself).
      before(async () => {
        dir = await mkdtemp(join(tmpdir(), "strata-registry-"));
      });
      after(() => (dir === undefined ? undefined : rm(dir, { recursive: true, force: true })));
    },
    isolate() {
      if (dir === undefined) throw new Error("sqliteBackend(): call useInThisSuite() in the describe body");
      const file = join(dir, `${randomUUID()}.sqlite`);
      return (project) => new SqliteRegistryStore(file, project);
    },
  };
}

/** `shared`: a server the caller already started with `usePostgres()` (e.g. at file level), to share it. */
export function postgresBackend(shared?: { url(): string }): RegistryBackend {
  let server = shared;
  return {
    name: "postgres",
    useInThisSuite() {
      server ??= usePostgres();
    },
    isolate() {
      if (server === undefined) throw new Error("postgresBackend(): call useInThisSuite() in the describe body");
      const [url, schema] = [server.url(), randomSchemaName()];
      return (project) => new PostgresRegistryStore(url, schema, project);
    },
  };
}

export const allBackends = (): RegistryBackend[] => [sqliteBackend(), postgresBackend()];

/**
 * Opens stores and closes every one of them when the test ends (`closeAll` in `afterEach`),
 * so a failing assertion never leaks a connection pool that keeps the test file alive.
 */
export class StoreTracker {
  private readonly open = new Set<RegistryStore>();

  constructor(private readonly openRegistry: OpenRegistry) {}

  store(project: string): RegistryStore {
    const store = this.openRegistry(project);
    this.open.add(store);
    return store;
  }

  async close(store: RegistryStore): Promise<void> {
    if (this.open.delete(store)) await store.close();
  }

  async closeAll(): Promise<void> {
    const stores = [...this.open];
    this.open.clear();
    await Promise.all(stores.map((s) => s.close()));
  }
}
