import type { TokenRecord } from "../access/api-token.js";
import type { AuditAction, AuditRow } from "../audit/audit-entry.js";
import type { ErasureRecord } from "../erasure/erasure-record.js";
import type { HistoryEntry, RegistrySnapshot, RegistryWrite } from "./registry-records.js";

/** The audit entry of a registry commit, made from the revision it creates; `key` signs it. */
export interface CommitAudit {
  readonly action: (revision: number) => AuditAction;
  readonly key: string | undefined;
}

/** An audit entry appended in the same transaction as the write it records. */
export interface WriteAudit {
  readonly action: AuditAction;
  readonly key: string | undefined;
}

/**
 * Where the registry of one project lives. Implementations: SQLite (embedded default) and
 * PostgreSQL; both pass test/registry/registry-conformance.ts.
 *
 * Writers use optimistic concurrency: `commit` applies `writes` atomically only if the
 * registry is still at `expectedRevision`, else throws `RegistryConflictError` and writes nothing.
 */
export interface RegistryStore {
  load(): Promise<RegistrySnapshot>;
  /** With `audit`, the audit entry for the new revision is appended in the same transaction. */
  commit(expectedRevision: number, writes: readonly RegistryWrite[], entry: { actor: string; summary: readonly string[] }, audit?: CommitAudit): Promise<number>;
  history(limit?: number): Promise<HistoryEntry[]>;
  /** Appends entries, in order and in one transaction, to the project's hash-chained audit log (one writer at a time); `key` signs each hash. */
  appendAudit(actions: readonly AuditAction[], key: string | undefined): Promise<AuditRow[]>;
  /** The audit log as stored, in order. */
  auditRows(): Promise<AuditRow[]>;
  /** Stores a new API token (hashed), with its audit entry; false (and no entry) when the name is taken, revoked names too. */
  createToken(token: TokenRecord, audit: WriteAudit): Promise<boolean>;
  /** Marks a token revoked, with its audit entry; false (and no entry) when there is no such live token. */
  revokeToken(name: string, at: string, audit: WriteAudit): Promise<boolean>;
  tokens(): Promise<TokenRecord[]>;
  /** Inserts or updates (by id) an erasure of the ledger; with `audit`, its entry is appended in the same transaction. */
  saveErasure(erasure: ErasureRecord, audit?: WriteAudit): Promise<void>;
  /** The erasure ledger, oldest boundary first. */
  erasures(): Promise<ErasureRecord[]>;
  close(): Promise<void>;
}
