import { createHmac } from "node:crypto";
import { canonicalJson, sha256Hex } from "../util/canonical-json.js";

/** What happened: who did which action to which object, with details (counts, ranges, reasons). */
export interface AuditAction {
  readonly actor: string;
  /** e.g. apply, ingest, materialize, backfill, erase, token.create, read. */
  readonly action: string;
  /** e.g. `featureView:driver_stats`, `token:ci`, `project`. */
  readonly object: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** One entry of the chain: the action, its position and time, and the previous entry's hash. */
export interface AuditEntry extends AuditAction {
  readonly seq: number;
  readonly at: string;
  readonly prev: string;
}

/** An entry as stored: its canonical text, that text's SHA-256, and optionally an HMAC of the hash. */
export interface AuditRow {
  readonly seq: number;
  readonly entry: string;
  readonly hash: string;
  readonly mac: string | null;
}

/** The `prev` of the first entry. */
export const GENESIS = "0".repeat(64);

export const macOf = (key: string, hash: string): string => createHmac("sha256", key).update(hash).digest("hex");

/** Seals an action as entry `seq` after the entry whose hash is `prev`. */
export function sealEntry(action: AuditAction, seq: number, prev: string, key: string | undefined, at = new Date()): AuditRow {
  const entry: AuditEntry = { seq, at: at.toISOString(), prev, actor: action.actor, action: action.action, object: action.object, details: action.details ?? {} };
  const text = canonicalJson(entry);
  const hash = sha256Hex(text);
  return { seq, entry: text, hash, mac: key === undefined ? null : macOf(key, hash) };
}
