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
  const fields: string[] = [];
  let from = 0;
  for (let i = 0; i < 6; i++) {
    const bar = text.indexOf("|", from);
    if (bar < 0) return undefined;
    fields.push(text.slice(from, bar));
    from = bar + 1;
  }
  if (fields[0] !== "v1") return undefined;
  const writeTs = Number(fields[1]);
  const base = { writeTs, expiresAt: Number(fields[2]), deltaMs: Number(fields[3]) };
  if (fields[4] === "") return { ...base, record: null };
  return { ...base, record: { entityKey, values: text.slice(from), eventTs: Number(fields[4]), createdTs: Number(fields[5]), writeTs } };
}
