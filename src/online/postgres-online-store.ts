import pg from "pg";
import { StorageError } from "../errors.js";
import {
  checkpointFromRow, deadLetterFromRow, deadLetterSeqsSql, deadLettersPageSql, deleteSealedSql, eraseTail, redactDeadLettersSql, insertDeadLetterSql, jobFromRow, jobParams, JOB_COLUMNS, loadCheckpointSql,
  nowMicros, onlineDdl, readStatesSql, RECORD_COLUMNS, recordFromRow, saveCheckpointSql, saveJobSql, SEALED_UPSERT_TAIL, stateFromRow, upsertTail, type OnlineDialect,
} from "./online-sql.js";
import { ERASED_VALUES, TOMBSTONE_CREATED_TS } from "./tombstone.js";
import { newestPerKey, type StoredDeadLetter, type MaterializationLog, type OnlineStore, type OnlineWrite, type SavedCheckpoint, type StateWrite, type StoredRecord, type StoredState, type StreamCheckpoint, type ViewRef } from "./online-store.js";

/**
 * The durable online store on PostgreSQL, for teams and for more than one server. A batch is
 * one statement (unnest of arrays), committed before it resolves.
 */
export class PostgresOnlineStore implements OnlineStore {
  private readonly pool: pg.Pool;
  private readonly dialect: OnlineDialect;
  private ready: Promise<void> | undefined;
  readonly materializations: MaterializationLog;

  constructor(
    url: string,
    private readonly schema: string,
    private readonly project: string,
    /** Connections kept (online.poolSize); reads on cache misses share them. */
    poolSize: number,
  ) {
    this.pool = new pg.Pool({ connectionString: url, max: poolSize });
    this.pool.on("error", () => undefined); // an idle client's broken connection is replaced on next use
    this.dialect = { param: (i) => `$${i}`, table: (name) => `"${schema}"."${name}"`, greatest: "GREATEST" };
    this.materializations = this.materializationLog();
  }

  /** Creates the tables once (advisory lock against concurrent first runs); a failure is retried on the next call. */
  private async query(sql: string, params: readonly unknown[]): Promise<Record<string, unknown>[]> {
    this.ready ??= (async () => {
      const client = await this.pool.connect();
      try {
        await client.query("BEGIN");
        await client.query("SELECT pg_advisory_xact_lock(hashtext('strata_online_ddl'))");
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
        for (const ddl of onlineDdl(this.dialect)) await client.query(ddl);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    })().catch((error: unknown) => {
      this.ready = undefined;
      throw new StorageError(`cannot prepare the PostgreSQL online store: ${(error as Error).message}`, error);
    });
    await this.ready;
    return (await this.pool.query(sql, [...params])).rows as Record<string, unknown>[];
  }

  async writeBatch(view: ViewRef, rows: readonly OnlineWrite[]): Promise<StoredRecord[]> {
    const statement = this.upsertStatement(view, newestPerKey(rows));
    return statement === undefined ? [] : (await this.query(statement.sql, statement.params)).map(recordFromRow);
  }

  /** One statement for a whole batch (one row per key, see newestPerKey); rows locked in key order, so concurrent batches over the same keys cannot deadlock. */
  private upsertStatement(view: ViewRef, newest: readonly OnlineWrite[]): { sql: string; params: unknown[] } | undefined {
    const batch = [...newest].sort((a, b) => (a.entityKey < b.entityKey ? -1 : a.entityKey > b.entityKey ? 1 : 0));
    if (batch.length === 0) return undefined;
    const sql =
      `INSERT INTO ${this.dialect.table("online_records")} AS t (project, view, version, ${RECORD_COLUMNS}) ` +
      `SELECT $1, $2, $3, u.k, u.v, u.e, u.c, $8 FROM unnest($4::text[], $5::text[], $6::bigint[], $7::bigint[]) AS u(k, v, e, c) ${upsertTail(this.dialect)}`;
    return { sql, params: [this.project, view.view, view.version, batch.map((r) => r.entityKey), batch.map((r) => r.values), batch.map((r) => r.eventTs), batch.map((r) => r.createdTs), nowMicros()] };
  }

  async commitCheckpoint(view: ViewRef, rows: readonly StateWrite[], checkpoint: StreamCheckpoint): Promise<StoredRecord[]> {
    const at = new Date().toISOString();
    return this.transaction(`cannot commit the checkpoint of ${checkpoint.consumer}`, async (client) => {
      const newest = newestPerKey(rows);
      const statement = this.upsertStatement(view, newest);
      const applied = statement === undefined ? [] : (await client.query(statement.sql, statement.params)).rows.map((r) => recordFromRow(r as Record<string, unknown>));
      const appliedKeys = new Set(applied.map((r) => r.entityKey));
      const sealed = newest.filter((r) => r.sealed !== undefined && appliedKeys.has(r.entityKey));
      if (sealed.length > 0) {
        await client.query(
          `INSERT INTO ${this.dialect.table("sealed_tiles")} (project, view, version, entity_key, tiles) SELECT $1, $2, $3, u.k, u.t FROM unnest($4::text[], $5::text[]) AS u(k, t) ${SEALED_UPSERT_TAIL}`,
          [this.project, view.view, view.version, sealed.map((r) => r.entityKey), sealed.map((r) => r.sealed)],
        );
      }
      for (const d of checkpoint.deadLetters) await client.query(insertDeadLetterSql(this.dialect), [this.project, checkpoint.consumer, d.seq, d.reason, d.payload, at]);
      await client.query(saveCheckpointSql(this.dialect), [this.project, checkpoint.consumer, checkpoint.seq, checkpoint.watermark, checkpoint.deadLetters.length, at]);
      return applied;
    });
  }

  /** Runs `work` in one transaction on one pooled client; a failure rolls back and becomes a StorageError. */
  private async transaction<T>(what: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    await this.query("SELECT 1", []); // tables exist
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw new StorageError(`${what}: ${(error as Error).message}`, error);
    } finally {
      client.release();
    }
  }

  async loadCheckpoint(consumer: string): Promise<SavedCheckpoint | undefined> {
    const [row] = await this.query(loadCheckpointSql(this.dialect), [this.project, consumer]);
    return row === undefined ? undefined : checkpointFromRow(row);
  }

  async deadLetterSeqs(consumer: string, from: number, to: number): Promise<Set<number>> {
    return new Set((await this.query(deadLetterSeqsSql(this.dialect), [this.project, consumer, from, to])).map((r) => Number(r.seq)));
  }

  async deadLetters(consumer: string, afterSeq: number, limit: number): Promise<StoredDeadLetter[]> {
    return (await this.query(deadLettersPageSql(this.dialect), [this.project, consumer, afterSeq, limit])).map(deadLetterFromRow);
  }

  async redactDeadLetters(consumer: string, seqs: readonly number[], payload: string): Promise<number> {
    const sql = redactDeadLettersSql(this.dialect, "SELECT unnest($4::bigint[])");
    return (await this.query(sql, [payload, this.project, consumer, [...seqs], payload])).length;
  }

  async readMany(view: ViewRef, entityKeys: readonly string[]): Promise<(StoredRecord | undefined)[]> {
    const sql = `SELECT ${RECORD_COLUMNS} FROM ${this.dialect.table("online_records")} WHERE project = $1 AND view = $2 AND version = $3 AND entity_key = ANY($4::text[])`;
    const found = new Map((await this.query(sql, [this.project, view.view, view.version, [...new Set(entityKeys)]])).map((r) => [r.entity_key as string, recordFromRow(r)]));
    return entityKeys.map((k) => found.get(k));
  }

  async readStates(view: ViewRef, entityKeys: readonly string[]): Promise<(StoredState | undefined)[]> {
    const rows = await this.query(readStatesSql(this.dialect, "SELECT unnest($4::text[])"), [this.project, view.view, view.version, [...new Set(entityKeys)]]);
    const found = new Map(rows.map((r) => [r.entity_key as string, stateFromRow(r)]));
    return entityKeys.map((k) => found.get(k));
  }

  async delete(view: ViewRef, entityKeys: readonly string[]): Promise<number> {
    const params = [this.project, view.view, view.version, [...entityKeys]];
    return this.transaction(`cannot delete from ${view.view} v${view.version}`, async (client) => {
      await client.query(deleteSealedSql(this.dialect, "SELECT unnest($4::text[])"), params);
      const sql = `DELETE FROM ${this.dialect.table("online_records")} WHERE project = $1 AND view = $2 AND version = $3 AND entity_key = ANY($4::text[]) RETURNING 1`;
      return (await client.query(sql, params)).rowCount ?? 0;
    });
  }

  async erase(view: ViewRef, entityKeys: readonly string[], boundaryMicros: number): Promise<{ tombstones: StoredRecord[]; removed: number }> {
    const keys = [...new Set(entityKeys)].sort();
    if (keys.length === 0) return { tombstones: [], removed: 0 };
    const table = this.dialect.table("online_records");
    return this.transaction(`cannot erase from ${view.view} v${view.version}`, async (client) => {
      // Locked in key order (as writes lock them), then counted, then replaced.
      const held = await client.query(`SELECT entity_key FROM ${table} WHERE project = $1 AND view = $2 AND version = $3 AND entity_key = ANY($4::text[]) AND feature_values <> $5 ORDER BY entity_key FOR UPDATE`, [
        this.project, view.view, view.version, keys, ERASED_VALUES,
      ]);
      const written = await client.query(
        `INSERT INTO ${table} AS t (project, view, version, ${RECORD_COLUMNS}) SELECT $1, $2, $3, k, $5, $6, $7, $8 FROM unnest($4::text[]) AS k ${eraseTail(this.dialect)}`,
        [this.project, view.view, view.version, keys, ERASED_VALUES, boundaryMicros, TOMBSTONE_CREATED_TS, nowMicros()],
      );
      await client.query(deleteSealedSql(this.dialect, "SELECT unnest($4::text[])"), [this.project, view.view, view.version, keys]);
      return { tombstones: written.rows.map((r) => recordFromRow(r as Record<string, unknown>)), removed: held.rowCount ?? 0 };
    });
  }

  async listKeys(view: ViewRef, after: string | null, limit: number): Promise<string[]> {
    const sql = `SELECT entity_key FROM ${this.dialect.table("online_records")} WHERE project = $1 AND view = $2 AND version = $3 AND entity_key COLLATE "C" > $4 ORDER BY entity_key COLLATE "C" LIMIT $5`;
    return (await this.query(sql, [this.project, view.view, view.version, after ?? "", limit])).map((r) => r.entity_key as string);
  }

  async teardown(view?: ViewRef): Promise<void> {
    await this.transaction("cannot tear down the online store", async (client) => {
      for (const table of ["online_records", "sealed_tiles"].map((name) => this.dialect.table(name))) {
        if (view === undefined) await client.query(`DELETE FROM ${table} WHERE project = $1`, [this.project]);
        else await client.query(`DELETE FROM ${table} WHERE project = $1 AND view = $2 AND version = $3`, [this.project, view.view, view.version]);
      }
    });
  }

  private materializationLog(): MaterializationLog {
    const table = this.dialect.table("materializations");
    const where = "WHERE project = $1 AND view = $2 AND version = $3";
    return {
      find: async (view, start, end) => {
        const [row] = await this.query(`SELECT ${JOB_COLUMNS} FROM ${table} ${where} AND start_ts = $4 AND end_ts = $5`, [this.project, view.view, view.version, start, end]);
        return row === undefined ? undefined : jobFromRow(row);
      },
      save: async (job) => {
        await this.query(saveJobSql(this.dialect), jobParams(this.project, job));
      },
      lastEnd: async (view) => {
        const [row] = await this.query(`SELECT max(end_ts) AS last FROM ${table} ${where} AND status = 'done'`, [this.project, view.view, view.version]);
        return row?.last === null || row?.last === undefined ? undefined : Number(row.last);
      },
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
