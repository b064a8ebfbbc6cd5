import { createHash } from "node:crypto";

/**
 * JSON with object keys sorted at every level, so equal values always serialize (and hash)
 * equally. NaN and infinities have no JSON form: refused rather than written as null.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === "number" && !Number.isFinite(v)) throw new TypeError(`canonical JSON has no ${v}`);
    if (typeof v !== "object" || v === null || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The identity of a definition: SHA-256 of its canonical JSON. */
export function definitionHash(spec: unknown): string {
  return sha256Hex(canonicalJson(spec));
}
