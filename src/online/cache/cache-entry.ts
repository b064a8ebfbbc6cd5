import type { StoredRecord } from "../online-store.js";

/**
 * One cached (view version, entity): the durable record (or null: "the durable store has
 * nothing", a negative entry), the record's write time (0 for negative entries), when the
 * entry expires, and what it cost to compute (for XFetch).
 *
 * Encoded as `v1|writeTs|expiresAtMs|deltaMs|eventTs|createdTs|valuesJson` so the populate
 * script can compare write times without parsing the values.
 */
export interface CacheEntry {
  readonly record: StoredRecord | null;
  readonly writeTs: number;
  readonly expiresAt: number;
  readonly deltaMs: number;
}

export function encodeEntry(entry: CacheEntry): string {
  const r = entry.record;
  return r === null
    ? `v1|0|${entry.expiresAt}|${entry.deltaMs}|||`
    : `v1|${entry.writeTs}|${entry.expiresAt}|${entry.deltaMs}|${r.eventTs}|${r.createdTs}|${r.values}`;
}

/** Decodes an entry read for `entityKey`; undefined for text that is not an entry (treated as a miss). */
export function decodeEntry(text: string, entityKey: string): CacheEntry | undefined {
  if (!text.startsWith("v1|")) return undefined;
  const a = text.indexOf("|", 3);
  const b = text.indexOf("|", a + 1);
  const c = text.indexOf("|", b + 1);
  const d = text.indexOf("|", c + 1);
  const e = text.indexOf("|", d + 1);
  if (a < 0 || b < 0 || c < 0 || d < 0 || e < 0) return undefined;
  const writeTs = Number(text.slice(3, a));
  const expiresAt = Number(text.slice(a + 1, b));
  const deltaMs = Number(text.slice(b + 1, c));
  if (d === c + 1) return { record: null, writeTs, expiresAt, deltaMs };
  const record = { entityKey, values: text.slice(e + 1), eventTs: Number(text.slice(c + 1, d)), createdTs: Number(text.slice(d + 1, e)), writeTs };
  return { record, writeTs, expiresAt, deltaMs };
}
