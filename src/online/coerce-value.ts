import type { ValueType } from "../definitions/value-type.js";
import { InvalidRequestError } from "../errors.js";

const RANGES: Record<string, [bigint, bigint]> = { Int32: [-(2n ** 31n), 2n ** 31n - 1n], Int64: [-(2n ** 63n), 2n ** 63n - 1n] };

/**
 * Checks a value written to the online store (from a push, a write request or the offline
 * store) against its feature type; returns it in the form the codec stores. `where` names the
 * row and column in the error.
 */
export function coerceValue(type: ValueType, value: unknown, where: string): unknown {
  if (value === null || value === undefined) return null;
  if (type.isArray) {
    if (!Array.isArray(value)) throw bad(type, value, where);
    return value.map((v, i) => coerceValue({ ...type, isArray: false }, v, `${where}[${i}]`));
  }
  switch (type.scalar) {
    case "Int32":
    case "Int64": {
      const n = typeof value === "number" && Number.isInteger(value) ? BigInt(value) : typeof value === "bigint" ? value : typeof value === "string" && /^-?\d+$/.test(value) ? BigInt(value) : undefined;
      const [lo, hi] = RANGES[type.scalar]!;
      if (n === undefined || n < lo || n > hi) throw bad(type, value, where);
      return Number.isSafeInteger(Number(n)) ? Number(n) : n;
    }
    case "Float32":
    case "Float64":
      if (typeof value === "number") return value;
      if (typeof value === "string" && /^(NaN|-?Infinity)$/.test(value)) return Number(value);
      throw bad(type, value, where);
    case "String":
      if (typeof value === "string") return value;
      throw bad(type, value, where);
    case "Bool":
      if (typeof value === "boolean") return value;
      throw bad(type, value, where);
    case "Timestamp":
      return parseTimestamp(value, where);
    case "Bytes":
      if (value instanceof Uint8Array) return Buffer.from(value);
      if (typeof value === "string" && /^[A-Za-z0-9+/]*={0,2}$/.test(value)) return Buffer.from(value, "base64");
      throw bad(type, value, where);
  }
}

/** A Date, or an ISO-8601 string (without an offset: UTC). */
export function parseTimestamp(value: unknown, where: string): Date {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value;
  if (typeof value === "string") {
    const iso = /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(" ", "T")}Z`;
    const date = new Date(iso);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new InvalidRequestError(`${where}: ${JSON.stringify(value)} is not a timestamp (use an ISO-8601 string such as "2024-09-01T12:00:00Z")`);
}

function bad(type: ValueType, value: unknown, where: string): InvalidRequestError {
  const shown = typeof value === "bigint" ? value.toString() : JSON.stringify(value);
  return new InvalidRequestError(`${where}: ${shown} is not a valid ${type.name}`);
}
