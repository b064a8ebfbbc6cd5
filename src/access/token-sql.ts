import type { SqlDialect, Statement } from "../registry/registry-sql.js";
import type { TokenRecord } from "./api-token.js";

/** API tokens, in the registry's database (pure SQL; both registry stores run it). */
export function tokenDdl(d: SqlDialect): string {
  return `CREATE TABLE IF NOT EXISTS ${d.table("api_tokens")} (project TEXT NOT NULL, name TEXT NOT NULL, hash TEXT NOT NULL, scopes TEXT NOT NULL, quota_per_second BIGINT, created_at TEXT NOT NULL, revoked_at TEXT, PRIMARY KEY (project, name))`;
}

/** Inserts a token unless the name is in use (even revoked), so names stay unambiguous in the audit log; 0 rows changed then. */
export function insertTokenStatement(d: SqlDialect, project: string, t: TokenRecord): Statement {
  return {
    sql: `INSERT INTO ${d.table("api_tokens")} (project, name, hash, scopes, quota_per_second, created_at, revoked_at) VALUES (${[1, 2, 3, 4, 5, 6, 7].map((i) => d.param(i)).join(", ")}) ON CONFLICT (project, name) DO NOTHING`,
    params: [project, t.name, t.hash, JSON.stringify(t.scopes), t.quotaPerSecond, t.createdAt, t.revokedAt],
  };
}

export function revokeTokenStatement(d: SqlDialect, project: string, name: string, at: string): Statement {
  return { sql: `UPDATE ${d.table("api_tokens")} SET revoked_at = ${d.param(1)} WHERE project = ${d.param(2)} AND name = ${d.param(3)} AND revoked_at IS NULL`, params: [at, project, name] };
}

export function tokensStatement(d: SqlDialect, project: string): Statement {
  return { sql: `SELECT name, hash, scopes, quota_per_second, created_at, revoked_at FROM ${d.table("api_tokens")} WHERE project = ${d.param(1)} ORDER BY name`, params: [project] };
}

export function tokenFromRow(row: Record<string, unknown>): TokenRecord {
  return {
    name: row.name as string,
    hash: row.hash as string,
    scopes: JSON.parse(row.scopes as string) as string[],
    quotaPerSecond: row.quota_per_second === null || row.quota_per_second === undefined ? null : Number(row.quota_per_second),
    createdAt: row.created_at as string,
    revokedAt: (row.revoked_at as string | null | undefined) ?? null,
  };
}
