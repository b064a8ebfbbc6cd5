import { before } from "node:test";
import pg from "pg";
import { PostgresOnlineStore } from "../../src/online/postgres-online-store.js";
import { randomSchemaName, usePostgres } from "../helpers/postgres-server.js";
import { onlineStoreConformance, type OnlineStoreBackend } from "./online-store-conformance.js";

/** The durable online store on a throwaway PostgreSQL server (one for this file, one random schema per test), against the store contract. */
function postgresBackend(): OnlineStoreBackend {
  let server: { url(): string } | undefined;
  return {
    name: "postgres",
    useInThisSuite() {
      const started = usePostgres();
      server = started;
      // A deadlock is reported after deadlock_timeout (default 1 s); a shorter one makes a test that
      // runs into one fail fast instead of waiting a second per deadlock.
      before(async () => {
        const admin = new pg.Client({ connectionString: started.url() });
        await admin.connect();
        try {
          await admin.query("ALTER SYSTEM SET deadlock_timeout = '100ms'");
          await admin.query("SELECT pg_reload_conf()");
        } finally {
          await admin.end();
        }
      });
    },
    isolate() {
      if (server === undefined) throw new Error("postgresBackend(): call useInThisSuite() in the describe body");
      const [url, schema] = [server.url(), randomSchemaName()];
      return {
        open: (project) => new PostgresOnlineStore(url, schema, project, 4),
        async shiftWriteTs(project, view, entityKey, deltaMicros) {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          try {
            const { rowCount } = await client.query(
              `UPDATE "${schema}".online_records SET write_ts = write_ts + $1 WHERE project = $2 AND view = $3 AND version = $4 AND entity_key = $5`,
              [deltaMicros, project, view.view, view.version, entityKey],
            );
            if (rowCount !== 1) throw new Error(`shiftWriteTs changed ${rowCount} rows`);
          } finally {
            await client.end();
          }
        },
      };
    },
  };
}

onlineStoreConformance(postgresBackend());
