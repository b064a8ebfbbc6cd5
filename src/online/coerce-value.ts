import type { ValueType } from "../definitions/value-type.js";
import { InvalidRequestError } from "../errors.js";

const RANGES: Record<string, [bigint, bigint]> = { Int32: [-(2n ** 31n), 2n ** 31n - 1n], Int64: [-(2n ** 63n), 2n ** 63n - 1n] };

/** An Int32/Int64 given as an integral number, a bigint or a decimal string; undefined when it is none or out of range. */
export function parseInteger(scalar: "Int32" | "Int64", value: unknown): bigint | undefined {
  const n = typeof value === "number" && Number.isInteger(value) ? BigInt(value) : typeof value === "bigint" ? value : typeof value === "string" && /^-?\d+$/.test(value) ? BigInt(value) : undefined;
  const [lo, hi] = RANGES[scalar]!;
  return n === undefined || n < lo || n > hi ? undefined : n;
}

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
      const n = parseInteger(type.scalar, value);
      if (n === undefined) throw bad(type, value, where);
      return Number.isSafeInteger(Number(n)) ? Number(n) : n;
    }
    case "Float32":
    case "Float64": {
      const n = typeof value === "number" ? value : typeof value === "string" && /^(NaN|-?Infinity)$/.test(value) ? Number(value) : undefined;
      if (n === undefined) throw bad(type, value, where);
      if (type.scalar === "Float64") return n;
      // Stored as a float32, as the offline store stores it: training and serving see the same number.
      const single = Math.fround(n);
      if (Number.isFinite(n) && !Number.isFinite(single)) throw new InvalidRequestError(`${where}: ${n} is out of range for a Float32`);
      return single;
    }
    case "String":
      if (typeof value === "string") return value;
      throw bad(type, value, where);
    case "Bool":
      if (typeof value === "boolean") return value;
      throw bad(type, value, where);
    case "Timestamp":
      return parseTimestampMicros(value, where);
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

/**
 * Like parseTimestamp, in epoch microseconds: the fraction of a second is taken from the text
 * (a Date keeps only milliseconds), so "…:25.905768Z" stays exact.
 */
export function parseTimestampMicros(value: unknown, where: string): number {
  const date = parseTimestamp(value, where);
  const seconds = Math.floor(date.getTime() / 1000);
  const fraction = typeof value === "string" ? /\d{2}:\d{2}:\d{2}\.(\d+)/.exec(value)?.[1] : undefined;
  return seconds * 1_000_000 + (fraction === undefined ? (date.getTime() - seconds * 1000) * 1000 : Number(fraction.padEnd(6, "0").slice(0, 6)));
}

function bad(type: ValueType, value: unknown, where: string): InvalidRequestError {
  const shown = typeof value === "bigint" ? value.toString() : JSON.stringify(value);
  return new InvalidRequestError(`${where}: ${shown} is not a valid ${type.name}`);
}
