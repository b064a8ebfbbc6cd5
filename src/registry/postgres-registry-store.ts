import pg from "pg";
import { RegistryConflictError, StorageError } from "../errors.js";
import type { HistoryEntry, RegistrySnapshot, RegistryWrite } from "./registry-records.js";
import {
  commitStatements,
  entityFromRow,
  historyFromRow,
  historyStatement,
  registryDdl,
  selectStatements,
  serviceFromRow,
  viewFromRow,
  writeStatement,
  type SqlDialect,
  type Statement,
} from "./registry-sql.js";
import type { CommitAudit, RegistryStore, WriteAudit } from "./registry-store.js";
import type { TokenRecord } from "../access/api-token.js";
import { erasureFromRow, erasuresStatement, saveErasureStatement } from "../erasure/erasure-sql.js";
import type { ErasureRecord } from "../erasure/erasure-record.js";
import { insertTokenStatement, revokeTokenStatement, tokenFromRow, tokensStatement } from "../access/token-sql.js";
import { GENESIS, sealEntry, type AuditAction, type AuditRow } from "../audit/audit-entry.js";
import { auditHeadFromRow, auditHeadStatement, auditInsertStatement, auditRowFromRow, auditRowsStatement } from "../audit/audit-sql.js";

/** Connections the registry keeps open: it is read at start-up and on refresh, written on apply and by audit appends (batched). */
export const POSTGRES_REGISTRY_POOL_SIZE = 2;

/**
 * The team registry on PostgreSQL. Tables live in their own schema. A commit locks the
 * project's revision row (`SELECT ... FOR UPDATE`), so concurrent applies serialize and the
 * loser sees a moved revision and gets a conflict error.
 */
export class PostgresRegistryStore implements RegistryStore {
  private readonly pool: pg.Pool;
  private readonly dialect: SqlDialect;
  private ready: Promise<void> | undefined;

  constructor(
    url: string,
    private readonly schema: string,
    private readonly project: string,
  ) {
    this.pool = new pg.Pool({ connectionString: url, max: POSTGRES_REGISTRY_POOL_SIZE });
    this.dialect = { param: (i) => `$${i}`, table: (name) => `"${schema}"."${name}"` };
  }

  /**
   * Creates the schema once; an advisory lock keeps concurrent first runs from racing on DDL.
   * A failure is not remembered: the next call tries again (the server may be back).
   */
  private init(): Promise<void> {
    this.ready ??= this.transaction(async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext('strata_registry_ddl'))");
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      for (const sql of registryDdl(this.dialect)) await client.query(sql);
    }).catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>, begin = "BEGIN"): Promise<T> {
    const client = await this.pool.connect().catch((error: unknown) => {
      throw new StorageError(`cannot connect to the PostgreSQL registry: ${(error as Error).message}`, error);
    });
    try {
      await client.query(begin);
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async load(): Promise<RegistrySnapshot> {
    await this.init();
    const s = selectStatements(this.dialect, this.project);
    return this.transaction(async (client) => {
      const rows = async (st: Statement): Promise<Record<string, unknown>[]> => (await client.query(st.sql, [...st.params])).rows as Record<string, unknown>[];
      return {
        project: this.project,
        revision: Number((await rows(s.revision))[0]?.revision ?? 0),
        entities: (await rows(s.entities)).map(entityFromRow),
        views: (await rows(s.views)).map(viewFromRow),
        services: (await rows(s.services)).map(serviceFromRow),
      };
    }, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  }

  async commit(expectedRevision: number, writes: readonly RegistryWrite[], entry: { actor: string; summary: readonly string[] }, audit?: CommitAudit): Promise<number> {
    await this.init();
    return this.transaction(async (client) => {
      const projects = this.dialect.table("projects");
      await client.query(`INSERT INTO ${projects} (project, revision, updated_at) VALUES ($1, 0, $2) ON CONFLICT (project) DO NOTHING`, [this.project, new Date().toISOString()]);
      const locked = await client.query(`SELECT revision FROM ${projects} WHERE project = $1 FOR UPDATE`, [this.project]);
      const actual = Number((locked.rows[0] as { revision?: string } | undefined)?.revision ?? 0);
      if (actual !== expectedRevision) throw new RegistryConflictError(this.project, expectedRevision, actual);
      const next = actual + 1;
      const history: HistoryEntry = { revision: next, appliedAt: new Date().toISOString(), ...entry };
      for (const s of [...writes.map((w) => writeStatement(this.dialect, this.project, w)), ...commitStatements(this.dialect, this.project, next, history)]) {
        await client.query(s.sql, [...s.params]);
      }
      if (audit !== undefined) await this.appendAuditWith(client, audit.action(next), audit.key);
      return next;
    });
  }

  async history(limit = 50): Promise<HistoryEntry[]> {
    await this.init();
    const s = historyStatement(this.dialect, this.project, limit);
    return (await this.pool.query(s.sql, [...s.params])).rows.map((r) => historyFromRow(r as Record<string, unknown>));
  }

  /** Serialized per project by a transaction-scoped advisory lock (appends race on the next sequence). */
  async appendAudit(actions: readonly AuditAction[], key: string | undefined): Promise<AuditRow[]> {
    await this.init();
    return this.transaction(async (client) => {
      const rows: AuditRow[] = [];
      for (const action of actions) rows.push(await this.appendAuditWith(client, action, key));
      return rows;
    });
  }

  /** Inside the caller's transaction; the advisory lock keeps appenders in line until it ends. */
  private async appendAuditWith(client: pg.PoolClient, action: AuditAction, key: string | undefined): Promise<AuditRow> {
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`strata_audit:${this.schema}:${this.project}`]);
    const headSql = auditHeadStatement(this.dialect, this.project);
    const head = auditHeadFromRow((await client.query(headSql.sql, [...headSql.params])).rows[0] as Record<string, unknown> | undefined);
    const row = sealEntry(action, (head?.seq ?? 0) + 1, head?.hash ?? GENESIS, key);
    const insert = auditInsertStatement(this.dialect, this.project, row);
    await client.query(insert.sql, [...insert.params]);
    return row;
  }

  async auditRows(): Promise<AuditRow[]> {
    await this.init();
    const s = auditRowsStatement(this.dialect, this.project);
    return (await this.pool.query(s.sql, [...s.params])).rows.map((r) => auditRowFromRow(r as Record<string, unknown>));
  }

  createToken(token: TokenRecord, audit: WriteAudit): Promise<boolean> {
    return this.auditedWrite(insertTokenStatement(this.dialect, this.project, token), audit);
  }

  revokeToken(name: string, at: string, audit: WriteAudit): Promise<boolean> {
    return this.auditedWrite(revokeTokenStatement(this.dialect, this.project, name, at), audit);
  }

  async saveErasure(erasure: ErasureRecord, audit?: WriteAudit): Promise<void> {
    await this.auditedWrite(saveErasureStatement(this.dialect, this.project, erasure), audit);
  }

  async erasures(): Promise<ErasureRecord[]> {
    await this.init();
    const s = erasuresStatement(this.dialect, this.project);
    return (await this.pool.query(s.sql, [...s.params])).rows.map((r) => erasureFromRow(r as Record<string, unknown>));
  }

  /** Runs a one-row write and, if it changed a row, appends its audit entry (if any): one transaction. */
  private async auditedWrite(s: Statement, audit: WriteAudit | undefined): Promise<boolean> {
    await this.init();
    return this.transaction(async (client) => {
      const changed = ((await client.query(s.sql, [...s.params])).rowCount ?? 0) > 0;
      if (changed && audit !== undefined) await this.appendAuditWith(client, audit.action, audit.key);
      return changed;
    });
  }

  async tokens(): Promise<TokenRecord[]> {
    await this.init();
    const s = tokensStatement(this.dialect, this.project);
    return (await this.pool.query(s.sql, [...s.params])).rows.map((r) => tokenFromRow(r as Record<string, unknown>));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
