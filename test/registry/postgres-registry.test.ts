import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import pg from "pg";
import { PostgresRegistryStore } from "../../src/registry/postgres-registry-store.js";
import { randomSchemaName, usePostgres } from "../helpers/postgres-server.js";
import { postgresBackend } from "./registry-backends.js";
import { registryConformance } from "./registry-conformance.js";

/**
 * The team registry on a throwaway PostgreSQL server (one server for this file, one random
 * schema per test) against the store contract, plus what only a server can get wrong.
 */
const postgres = usePostgres();
registryConformance(postgresBackend(postgres));

describe("PostgreSQL registry: failures at first use", () => {
  it(
    "works once a problem that made its first use fail is fixed (a long-running server must not need a restart)",
    async () => {
      const role = `strata_role_${randomBytes(4).toString("hex")}`;
      const admin = new pg.Client({ connectionString: postgres.url() });
      await admin.connect();
      const url = new URL(postgres.url());
      url.username = role;
      const store = new PostgresRegistryStore(url.toString(), randomSchemaName(), "p");
      try {
        await admin.query(`CREATE ROLE ${role} LOGIN`);
        await assert.rejects(store.load(), /permission denied/, "a role that may not create the registry schema fails");
        await admin.query(`GRANT CREATE ON DATABASE postgres TO ${role}`);
        assert.deepEqual(await store.load(), { project: "p", revision: 0, entities: [], views: [], services: [] }, "the same store works after the grant");
      } finally {
        await store.close();
        await admin.end();
      }
    },
  );
});
