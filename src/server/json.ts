import { HttpError } from "./http-errors.js";

const LONG_INTEGER = /\d{16}/;
const BIGINT_MARK = "\u0000strata-bigint:";

/**
 * JSON.parse, except that integers beyond ±(2^53 - 1) become bigints instead of losing digits
 * (Int64 keys and values). Only bodies with a 16-digit run take the slower path.
 */
export function parseJsonExact(text: string): unknown {
  if (!LONG_INTEGER.test(text)) return JSON.parse(text);
  let out = "";
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // skip a string literal, escapes included
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) i++;
      continue;
    }
    if (c !== 45 && (c < 48 || c > 57)) continue;
    let end = i + 1;
    while (end < text.length && /[0-9.eE+-]/.test(text[end]!)) end++;
    const token = text.slice(i, end);
    if (/^-?\d+$/.test(token) && !Number.isSafeInteger(Number(token))) {
      out += `${text.slice(last, i)}"\\u0000strata-bigint:${token}"`; // escaped: JSON forbids a raw NUL in strings
      last = end;
    }
    i = end - 1;
  }
  return JSON.parse(out + text.slice(last), (_key, v: unknown) => (typeof v === "string" && v.startsWith(BIGINT_MARK) ? BigInt(v.slice(BIGINT_MARK.length)) : v));
}

/** Parses a request body as a JSON object, or says precisely why it is not one. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) throw new HttpError(400, "MALFORMED_BODY", "the request body is empty; send a JSON object");
  let value: unknown;
  try {
    value = parseJsonExact(body.toString("utf8"));
  } catch (error) {
    throw new HttpError(400, "MALFORMED_BODY", `the request body is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new HttpError(400, "MALFORMED_BODY", "the request body must be a JSON object");
  return value as Record<string, unknown>;
}

/** JSON text where bigints are written as plain numbers (JSON has no size limit on numbers). */
export function toJsonText(value: unknown): string {
  let bigints = false;
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v !== "bigint") return v;
    bigints = true;
    return `__bigint__${v.toString()}__`;
  });
  return bigints ? text.replace(/"__bigint__(-?\d+)__"/g, "$1") : text;
}
