import { tokenDdl } from "../access/token-sql.js";
import { auditDdl } from "../audit/audit-sql.js";
import { erasureDdl } from "../erasure/erasure-sql.js";
import type { EntitySpec, FeatureServiceSpec, FeatureViewSpec } from "../definitions/specs.js";
import type { EntityRecord, HistoryEntry, RegistryWrite, ServiceRecord, ViewVersionRecord } from "./registry-records.js";

/**
 * The registry's SQL, shared by the SQLite and PostgreSQL stores: both speak this subset
 * (TEXT/BIGINT columns, INSERT ... ON CONFLICT DO UPDATE). A dialect only supplies
 * placeholders and table qualification. Pure: compiled here, executed by each store.
 */
export interface SqlDialect {
  param(index: number): string;
  table(name: string): string;
}

export interface Statement {
  readonly sql: string;
  readonly params: readonly (string | number | null)[];
}

export function registryDdl(d: SqlDialect): string[] {
  const text = "TEXT NOT NULL";
  return [
    `CREATE TABLE IF NOT EXISTS ${d.table("projects")} (project TEXT PRIMARY KEY, revision BIGINT NOT NULL, updated_at ${text})`,
    `CREATE TABLE IF NOT EXISTS ${d.table("entities")} (project ${text}, name ${text}, spec ${text}, hash ${text}, created_at ${text}, updated_at ${text}, PRIMARY KEY (project, name))`,
    `CREATE TABLE IF NOT EXISTS ${d.table("feature_views")} (project ${text}, name ${text}, version BIGINT NOT NULL, spec ${text}, hash ${text}, created_at ${text}, updated_at ${text}, removed_at TEXT, PRIMARY KEY (project, name, version))`,
    `CREATE TABLE IF NOT EXISTS ${d.table("feature_services")} (project ${text}, name ${text}, spec ${text}, hash ${text}, bindings ${text}, created_at ${text}, updated_at ${text}, PRIMARY KEY (project, name))`,
    `CREATE TABLE IF NOT EXISTS ${d.table("apply_history")} (project ${text}, revision BIGINT NOT NULL, applied_at ${text}, actor ${text}, summary ${text}, PRIMARY KEY (project, revision))`,
    auditDdl(d),
    tokenDdl(d),
    erasureDdl(d),
  ];
}

export function selectStatements(d: SqlDialect, project: string): Record<"revision" | "entities" | "views" | "services", Statement> {
  const where = `WHERE project = ${d.param(1)}`;
  return {
    revision: { sql: `SELECT revision FROM ${d.table("projects")} ${where}`, params: [project] },
    entities: { sql: `SELECT spec, hash, created_at, updated_at FROM ${d.table("entities")} ${where} ORDER BY name`, params: [project] },
    views: { sql: `SELECT name, version, spec, hash, created_at, updated_at, removed_at FROM ${d.table("feature_views")} ${where} ORDER BY name, version`, params: [project] },
    services: { sql: `SELECT spec, hash, bindings, created_at, updated_at FROM ${d.table("feature_services")} ${where} ORDER BY name`, params: [project] },
  };
}

export function historyStatement(d: SqlDialect, project: string, limit: number): Statement {
  return {
    sql: `SELECT revision, applied_at, actor, summary FROM ${d.table("apply_history")} WHERE project = ${d.param(1)} ORDER BY revision DESC LIMIT ${d.param(2)}`,
    params: [project, limit],
  };
}

function upsert(d: SqlDialect, table: string, columns: readonly string[], keyCount: number, params: Statement["params"]): Statement {
  const keys = columns.slice(0, keyCount);
  const updates = columns.slice(keyCount).map((c) => `${c} = excluded.${c}`);
  return {
    sql: `INSERT INTO ${d.table(table)} (${columns.join(", ")}) VALUES (${columns.map((_, i) => d.param(i + 1)).join(", ")}) ON CONFLICT (${keys.join(", ")}) DO UPDATE SET ${updates.join(", ")}`,
    params,
  };
}

/** The statements that bump the revision and log the commit (run after the writes, in one transaction). */
export function commitStatements(d: SqlDialect, project: string, revision: number, entry: HistoryEntry): Statement[] {
  return [
    upsert(d, "projects", ["project", "revision", "updated_at"], 1, [project, revision, entry.appliedAt]),
    {
      sql: `INSERT INTO ${d.table("apply_history")} (project, revision, applied_at, actor, summary) VALUES (${[1, 2, 3, 4, 5].map((i) => d.param(i)).join(", ")})`,
      params: [project, revision, entry.appliedAt, entry.actor, JSON.stringify(entry.summary)],
    },
  ];
}

export function writeStatement(d: SqlDialect, project: string, write: RegistryWrite): Statement {
  switch (write.op) {
    case "putEntity": {
      const r = write.record;
      return upsert(d, "entities", ["project", "name", "spec", "hash", "created_at", "updated_at"], 2, [project, r.spec.name, JSON.stringify(r.spec), r.hash, r.createdAt, r.updatedAt]);
    }
    case "deleteEntity":
      return { sql: `DELETE FROM ${d.table("entities")} WHERE project = ${d.param(1)} AND name = ${d.param(2)}`, params: [project, write.name] };
    case "putViewVersion": {
      const r = write.record;
      const columns = ["project", "name", "version", "spec", "hash", "created_at", "updated_at", "removed_at"];
      return upsert(d, "feature_views", columns, 3, [project, r.name, r.version, JSON.stringify(r.spec), r.hash, r.createdAt, r.updatedAt, r.removedAt]);
    }
    case "removeViewVersion":
      return {
        sql: `UPDATE ${d.table("feature_views")} SET removed_at = ${d.param(1)} WHERE project = ${d.param(2)} AND name = ${d.param(3)} AND version = ${d.param(4)}`,
        params: [write.removedAt, project, write.name, write.version],
      };
    case "putService": {
      const r = write.record;
      const columns = ["project", "name", "spec", "hash", "bindings", "created_at", "updated_at"];
      return upsert(d, "feature_services", columns, 2, [project, r.spec.name, JSON.stringify(r.spec), r.hash, JSON.stringify(r.bindings), r.createdAt, r.updatedAt]);
    }
    case "deleteService":
      return { sql: `DELETE FROM ${d.table("feature_services")} WHERE project = ${d.param(1)} AND name = ${d.param(2)}`, params: [project, write.name] };
  }
}

type Row = Record<string, unknown>;
const str = (row: Row, key: string): string => String(row[key]);

export function entityFromRow(row: Row): EntityRecord {
  return { spec: JSON.parse(str(row, "spec")) as EntitySpec, hash: str(row, "hash"), createdAt: str(row, "created_at"), updatedAt: str(row, "updated_at") };
}

export function viewFromRow(row: Row): ViewVersionRecord {
  return {
    name: str(row, "name"),
    version: Number(row.version),
    spec: JSON.parse(str(row, "spec")) as FeatureViewSpec,
    hash: str(row, "hash"),
    createdAt: str(row, "created_at"),
    updatedAt: str(row, "updated_at"),
    removedAt: row.removed_at === null || row.removed_at === undefined ? null : str(row, "removed_at"),
  };
}

export function serviceFromRow(row: Row): ServiceRecord {
  return {
    spec: JSON.parse(str(row, "spec")) as FeatureServiceSpec,
    hash: str(row, "hash"),
    bindings: JSON.parse(str(row, "bindings")) as Record<string, number>,
    createdAt: str(row, "created_at"),
    updatedAt: str(row, "updated_at"),
  };
}

export function historyFromRow(row: Row): HistoryEntry {
  return { revision: Number(row.revision), appliedAt: str(row, "applied_at"), actor: str(row, "actor"), summary: JSON.parse(str(row, "summary")) as string[] };
}
