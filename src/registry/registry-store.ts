import type { TokenRecord } from "../access/api-token.js";
import type { AuditAction, AuditRow } from "../audit/audit-entry.js";
import type { HistoryEntry, RegistrySnapshot, RegistryWrite } from "./registry-records.js";

/**
 * Where the registry of one project lives. Implementations: SQLite (embedded default) and
 * PostgreSQL; both pass test/registry/registry-conformance.ts.
 *
 * Writers use optimistic concurrency: `commit` applies `writes` atomically only if the
 * registry is still at `expectedRevision`, else throws `RegistryConflictError` and writes nothing.
 */
/** The audit entry of a registry commit, made from the revision it creates; `key` signs it. */
export interface CommitAudit {
  readonly action: (revision: number) => AuditAction;
  readonly key: string | undefined;
}

export interface RegistryStore {
  load(): Promise<RegistrySnapshot>;
  /** With `audit`, the audit entry for the new revision is appended in the same transaction. */
  commit(expectedRevision: number, writes: readonly RegistryWrite[], entry: { actor: string; summary: readonly string[] }, audit?: CommitAudit): Promise<number>;
  history(limit?: number): Promise<HistoryEntry[]>;
  /** Appends to the project's hash-chained audit log (one writer at a time); `key` signs the entry's hash. */
  appendAudit(action: AuditAction, key: string | undefined): Promise<AuditRow>;
  /** The audit log as stored, in order. */
  auditRows(): Promise<AuditRow[]>;
  /** Stores a new API token (hashed); false when the name is taken (revoked names too). */
  createToken(token: TokenRecord): Promise<boolean>;
  /** Marks a token revoked; false when there is no such live token. */
  revokeToken(name: string, at: string): Promise<boolean>;
  tokens(): Promise<TokenRecord[]>;
  close(): Promise<void>;
}
