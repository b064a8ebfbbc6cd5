import type { SqlDialect, Statement } from "../registry/registry-sql.js";
import type { AuditRow } from "./audit-entry.js";

/** The audit log's table, in the registry's database (pure SQL; both registry stores run it). */
export function auditDdl(d: SqlDialect): string {
  return `CREATE TABLE IF NOT EXISTS ${d.table("audit_log")} (project TEXT NOT NULL, seq BIGINT NOT NULL, entry TEXT NOT NULL, hash TEXT NOT NULL, mac TEXT, PRIMARY KEY (project, seq))`;
}

export function auditHeadStatement(d: SqlDialect, project: string): Statement {
  return { sql: `SELECT seq, hash FROM ${d.table("audit_log")} WHERE project = ${d.param(1)} ORDER BY seq DESC LIMIT 1`, params: [project] };
}

export function auditInsertStatement(d: SqlDialect, project: string, row: AuditRow): Statement {
  return {
    sql: `INSERT INTO ${d.table("audit_log")} (project, seq, entry, hash, mac) VALUES (${[1, 2, 3, 4, 5].map((i) => d.param(i)).join(", ")})`,
    params: [project, row.seq, row.entry, row.hash, row.mac],
  };
}

export function auditRowsStatement(d: SqlDialect, project: string): Statement {
  return { sql: `SELECT seq, entry, hash, mac FROM ${d.table("audit_log")} WHERE project = ${d.param(1)} ORDER BY seq`, params: [project] };
}

export function auditRowFromRow(row: Record<string, unknown>): AuditRow {
  return { seq: Number(row.seq), entry: row.entry as string, hash: row.hash as string, mac: (row.mac as string | null | undefined) ?? null };
}

/** The chain's last (seq, hash), from auditHeadStatement's row. */
export function auditHeadFromRow(row: Record<string, unknown> | undefined): { seq: number; hash: string } | undefined {
  return row === undefined ? undefined : { seq: Number(row.seq), hash: row.hash as string };
}
