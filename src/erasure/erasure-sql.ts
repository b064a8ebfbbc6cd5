import type { SqlDialect, Statement } from "../registry/registry-sql.js";
import type { ErasureRecord } from "./erasure-record.js";

/** The erasure ledger, in the registry's database (pure SQL; both registry stores run it). */
export function erasureDdl(d: SqlDialect): string {
  return (
    `CREATE TABLE IF NOT EXISTS ${d.table("erasures")} (project TEXT NOT NULL, id TEXT NOT NULL, subject TEXT NOT NULL, views TEXT NOT NULL, boundary_us BIGINT NOT NULL, ` +
    `reason TEXT, actor TEXT NOT NULL, requested_at TEXT NOT NULL, status TEXT NOT NULL, offline_pending BIGINT NOT NULL, steps TEXT NOT NULL, completed_at TEXT, PRIMARY KEY (project, id))`
  );
}

const COLUMNS = "id, subject, views, boundary_us, reason, actor, requested_at, status, offline_pending, steps, completed_at";

/** Inserts or updates (by id) an erasure. */
export function saveErasureStatement(d: SqlDialect, project: string, e: ErasureRecord): Statement {
  const params = Array.from({ length: 12 }, (_, i) => d.param(i + 1)).join(", ");
  return {
    sql:
      `INSERT INTO ${d.table("erasures")} (project, ${COLUMNS}) VALUES (${params}) ON CONFLICT (project, id) DO UPDATE SET ` +
      "status = excluded.status, offline_pending = excluded.offline_pending, steps = excluded.steps, completed_at = excluded.completed_at",
    params: [project, e.id, JSON.stringify(e.subject), JSON.stringify(e.views), e.boundaryMicros, e.reason, e.actor, e.requestedAt, e.status, e.offlinePending ? 1 : 0, JSON.stringify(e.steps), e.completedAt],
  };
}

export function erasuresStatement(d: SqlDialect, project: string): Statement {
  return { sql: `SELECT ${COLUMNS} FROM ${d.table("erasures")} WHERE project = ${d.param(1)} ORDER BY boundary_us, id`, params: [project] };
}

export function erasureFromRow(row: Record<string, unknown>): ErasureRecord {
  return {
    id: row.id as string,
    subject: JSON.parse(row.subject as string) as Record<string, string>,
    views: JSON.parse(row.views as string) as string[],
    boundaryMicros: Number(row.boundary_us),
    reason: (row.reason as string | null | undefined) ?? null,
    actor: row.actor as string,
    requestedAt: row.requested_at as string,
    status: row.status as ErasureRecord["status"],
    offlinePending: Number(row.offline_pending) === 1,
    steps: JSON.parse(row.steps as string) as ErasureRecord["steps"],
    completedAt: (row.completed_at as string | null | undefined) ?? null,
  };
}
