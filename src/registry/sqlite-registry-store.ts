import type Database from "better-sqlite3";
import { openSqlite } from "../util/open-sqlite.js";
import { RegistryConflictError } from "../errors.js";
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

const dialect: SqlDialect = { param: () => "?", table: (name) => name };

/**
 * The embedded registry: one SQLite file (WAL mode). `BEGIN IMMEDIATE` serializes writers
 * across processes; the revision check inside it turns a lost race into a conflict error.
 */
export class SqliteRegistryStore implements RegistryStore {
  private readonly db: Database.Database;

  constructor(
    path: string,
    private readonly project: string,
  ) {
    this.db = openSqlite(path, "FULL", registryDdl(dialect));
  }

  load(): Promise<RegistrySnapshot> {
    const statements = selectStatements(dialect, this.project);
    const all = (key: keyof typeof statements): Record<string, unknown>[] =>
      this.db.prepare(statements[key].sql).all(...statements[key].params) as Record<string, unknown>[];
    const read = this.db.transaction(() => ({
      project: this.project,
      revision: Number(all("revision")[0]?.revision ?? 0),
      entities: all("entities").map(entityFromRow),
      views: all("views").map(viewFromRow),
      services: all("services").map(serviceFromRow),
    }));
    return Promise.resolve(read.deferred());
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async so a conflict surfaces as a rejection
  async commit(expectedRevision: number, writes: readonly RegistryWrite[], entry: { actor: string; summary: readonly string[] }, audit?: CommitAudit): Promise<number> {
    const run = this.db.transaction(() => {
      const { revision } = selectStatements(dialect, this.project);
      const row = this.db.prepare(revision.sql).get(...revision.params) as { revision?: number } | undefined;
      const actual = Number(row?.revision ?? 0);
      if (actual !== expectedRevision) throw new RegistryConflictError(this.project, expectedRevision, actual);
      const next = actual + 1;
      const history: HistoryEntry = { revision: next, appliedAt: new Date().toISOString(), ...entry };
      for (const s of [...writes.map((w) => writeStatement(dialect, this.project, w)), ...commitStatements(dialect, this.project, next, history)]) {
        this.db.prepare(s.sql).run(...s.params);
      }
      if (audit !== undefined) this.appendAuditRow(audit.action(next), audit.key);
      return next;
    });
    return run.immediate();
  }

  history(limit = 50): Promise<HistoryEntry[]> {
    const s = historyStatement(dialect, this.project, limit);
    return Promise.resolve((this.db.prepare(s.sql).all(...s.params) as Record<string, unknown>[]).map(historyFromRow));
  }

  appendAudit(actions: readonly AuditAction[], key: string | undefined): Promise<AuditRow[]> {
    return Promise.resolve(this.db.transaction(() => actions.map((action) => this.appendAuditRow(action, key))).immediate());
  }

  /** Inside the caller's (immediate) transaction, which keeps appenders in line. */
  private appendAuditRow(action: AuditAction, key: string | undefined): AuditRow {
    const headSql = auditHeadStatement(dialect, this.project);
    const head = auditHeadFromRow(this.db.prepare(headSql.sql).get(...headSql.params) as Record<string, unknown> | undefined);
    const row = sealEntry(action, (head?.seq ?? 0) + 1, head?.hash ?? GENESIS, key);
    const insert = auditInsertStatement(dialect, this.project, row);
    this.db.prepare(insert.sql).run(...insert.params);
    return row;
  }

  auditRows(): Promise<AuditRow[]> {
    const s = auditRowsStatement(dialect, this.project);
    return Promise.resolve((this.db.prepare(s.sql).all(...s.params) as Record<string, unknown>[]).map(auditRowFromRow));
  }

  createToken(token: TokenRecord, audit: WriteAudit): Promise<boolean> {
    return this.auditedWrite(insertTokenStatement(dialect, this.project, token), audit);
  }

  revokeToken(name: string, at: string, audit: WriteAudit): Promise<boolean> {
    return this.auditedWrite(revokeTokenStatement(dialect, this.project, name, at), audit);
  }

  async saveErasure(erasure: ErasureRecord, audit?: WriteAudit): Promise<void> {
    await this.auditedWrite(saveErasureStatement(dialect, this.project, erasure), audit);
  }

  erasures(): Promise<ErasureRecord[]> {
    const s = erasuresStatement(dialect, this.project);
    return Promise.resolve((this.db.prepare(s.sql).all(...s.params) as Record<string, unknown>[]).map(erasureFromRow));
  }

  /** Runs a one-row write and, if it changed a row, appends its audit entry (if any): one transaction. */
  private auditedWrite(s: Statement, audit: WriteAudit | undefined): Promise<boolean> {
    const run = this.db.transaction(() => {
      const changed = this.db.prepare(s.sql).run(...s.params).changes > 0;
      if (changed && audit !== undefined) this.appendAuditRow(audit.action, audit.key);
      return changed;
    });
    return Promise.resolve(run.immediate());
  }

  tokens(): Promise<TokenRecord[]> {
    const s = tokensStatement(dialect, this.project);
    return Promise.resolve((this.db.prepare(s.sql).all(...s.params) as Record<string, unknown>[]).map(tokenFromRow));
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}
