import { InvalidRequestError } from "../errors.js";
import { canonicalJson, sha256Hex } from "../util/canonical-json.js";
import { GENESIS, macOf, type AuditEntry, type AuditRow } from "./audit-entry.js";

export type AuditProblemKind = "altered" | "deleted" | "inserted" | "reordered" | "truncated";

export interface AuditProblem {
  readonly kind: AuditProblemKind;
  /** The position (stored sequence) of the first entry found wrong or missing. */
  readonly seq: number;
  readonly detail: string;
}

export interface AuditVerifyReport {
  readonly ok: boolean;
  readonly entries: number;
  /** The last entry as `seq:hash`: keep it outside the log to detect a truncated tail later. */
  readonly head: string | null;
  readonly signaturesChecked: boolean;
  readonly problem: AuditProblem | null;
}

/**
 * Checks a hash chain (rows in stored order): each entry's text hashes to its stored hash, is
 * canonical, sits at its own sequence with no gap, and names the previous entry's hash; with
 * `key`, each hash carries its HMAC; with `anchor` (`seq:hash`, kept outside the log), that
 * entry is still there unchanged. Reports the first problem, named by what explains it:
 * a changed entry (altered), a gap (deleted), an entry the chain does not link (inserted), an
 * entry at another's place (reordered), or entries missing after the end (truncated).
 */
export function verifyChain(rows: readonly AuditRow[], options: { key?: string; anchor?: string } = {}): AuditVerifyReport {
  const last = rows.at(-1);
  const head = last === undefined ? null : `${last.seq}:${last.hash}`;
  const report = (problem: AuditProblem | null): AuditVerifyReport => ({ ok: problem === null, entries: rows.length, head, signaturesChecked: options.key !== undefined, problem });
  const hashes = new Set(rows.map((r) => r.hash));
  let prev = GENESIS;
  let expected = 1;
  for (const [i, row] of rows.entries()) {
    if (row.seq > expected) return report({ kind: "deleted", seq: expected, detail: `entries ${expected}..${row.seq - 1} are missing` });
    const entry = parse(row.entry);
    if (entry === undefined || sha256Hex(row.entry) !== row.hash || canonicalJson(entry) !== row.entry) {
      return report({ kind: "altered", seq: row.seq, detail: "its text does not match its hash" });
    }
    if (entry.prev !== prev) {
      const before = rows[i - 1];
      if (i >= 2 && entry.prev === rows[i - 2]!.hash) return report({ kind: "inserted", seq: before!.seq, detail: "the chain does not link it: the next entry names the one before it" });
      if (hashes.has(entry.prev)) return report({ kind: "reordered", seq: row.seq, detail: `it holds entry ${entry.seq}, which follows another entry than this position's predecessor` });
      if (entry.seq > expected) return report({ kind: "deleted", seq: expected, detail: `entries ${expected}..${entry.seq - 1} are missing (the rest was renumbered)` });
      if (before === undefined) return report({ kind: "altered", seq: row.seq, detail: "the first entry does not start the chain" });
      return report({ kind: "altered", seq: before.seq, detail: "its content changed (its hash was recomputed): the next entry names another hash" });
    }
    if (entry.seq !== row.seq) return report({ kind: "reordered", seq: row.seq, detail: `it holds entry ${entry.seq}` });
    if (options.key !== undefined && row.mac !== macOf(options.key, row.hash)) {
      // Inserted if the chain goes on without it (or it is the last); else changed in place.
      const next = rows[i + 1];
      const kind = next === undefined || parse(next.entry)?.prev === prev ? "inserted" : "altered";
      return report({ kind, seq: row.seq, detail: "it is not signed with the audit key" });
    }
    prev = row.hash;
    expected = row.seq + 1;
  }
  return report(anchorProblem(rows, options.anchor));
}

function anchorProblem(rows: readonly AuditRow[], anchor: string | undefined): AuditProblem | null {
  if (anchor === undefined) return null;
  const [seqText, hash] = anchor.split(":");
  const seq = Number(seqText);
  if (!Number.isInteger(seq) || seq < 1 || hash === undefined || !/^[0-9a-f]{64}$/.test(hash)) throw new InvalidRequestError(`the anchor "${anchor}" is not seq:sha256 (as \`strata audit head\` prints it)`);
  const row = rows.find((r) => r.seq === seq);
  const lastSeq = rows.at(-1)?.seq ?? 0;
  if (row === undefined) return { kind: "truncated", seq: lastSeq + 1, detail: `the log ends at entry ${lastSeq}; the anchor names entry ${seq}` };
  if (row.hash !== hash) return { kind: "altered", seq, detail: "the anchored entry's hash differs (the chain was rewritten from there)" };
  return null;
}

function parse(text: string): AuditEntry | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as AuditEntry) : undefined;
  } catch {
    return undefined;
  }
}
