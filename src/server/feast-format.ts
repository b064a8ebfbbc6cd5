import type { ValueType } from "../definitions/value-type.js";

/**
 * Renders values the way Feast's Python feature server does, so Feast clients read the same
 * types: the Python client infers a value's type from its JSON token (1 → int, 1.0 → float).
 */

/** A float as Python's repr writes it: shortest round-trip digits, always ".0" or an exponent; exponent form below 1e-4 or from 1e16. */
export function pythonFloat(value: number): string {
  // Fast path: where both write positional digits, JavaScript's shortest round-trip text is Python's.
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-4 && magnitude < 1e16) return Number.isInteger(value) ? `${value}.0` : `${value}`;
  if (Number.isNaN(value)) return '"NaN"';
  if (!Number.isFinite(value)) return value > 0 ? '"Infinity"' : '"-Infinity"';
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const [mantissa, expText] = Math.abs(value).toExponential().split("e") as [string, string];
  const exp = Number(expText);
  const sign = value < 0 ? "-" : "";
  if (exp < -4 || exp >= 16) return `${sign}${mantissa}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  const digits = mantissa.replace(".", "");
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const fraction = digits.slice(exp + 1);
  return `${sign}${digits.slice(0, exp + 1).padEnd(exp + 1, "0")}.${fraction === "" ? "0" : fraction}`;
}

const timestampCache = new Map<number, string>();
/** Distinct event times remembered for feastTimestamp (most responses repeat a few). */
const TIMESTAMP_CACHE_SIZE = 50_000;

/** Feast's event timestamp text: seconds, then ".fff" or ".ffffff" only when the time has them, then "Z". */
export function feastTimestamp(micros: number | null): string {
  if (micros === null || micros === 0) return "1970-01-01T00:00:00Z";
  let text = timestampCache.get(micros);
  if (text === undefined) {
    if (timestampCache.size >= TIMESTAMP_CACHE_SIZE) timestampCache.clear();
    timestampCache.set(micros, (text = formatTimestamp(micros)));
  }
  return text;
}

function formatTimestamp(micros: number): string {
  const seconds = Math.floor(micros / 1_000_000);
  const rest = micros - seconds * 1_000_000;
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  if (rest === 0) return `${base}Z`;
  return rest % 1000 === 0 ? `${base}.${String(rest / 1000).padStart(3, "0")}Z` : `${base}.${String(rest).padStart(6, "0")}Z`;
}

const renderers = new Map<string, (value: unknown) => string>();

/** A renderer for one type, chosen once per column instead of once per value. */
export function rendererFor(type: ValueType): (value: unknown) => string {
  let render = renderers.get(type.name);
  if (render === undefined) {
    const scalar = type.isArray ? undefined : type.scalar;
    render =
      scalar === "Float32" || scalar === "Float64"
        ? (v) => (v === null || v === undefined ? "null" : pythonFloat(v as number))
        : scalar === "Int32" || scalar === "Int64"
          ? (v) => (v === null || v === undefined ? "null" : (v as number | bigint).toString())
          : scalar === "String"
            ? (v) => (v === null || v === undefined ? "null" : JSON.stringify(v))
            : scalar === "Bool"
              ? (v) => (v === null || v === undefined ? "null" : v === true ? "true" : "false")
              : (v) => renderValue(type, v);
    renderers.set(type.name, render);
  }
  return render;
}

/** One feature value as JSON text, per its type (timestamps as epoch seconds, bytes as base64, as Feast does). */
export function renderValue(type: ValueType, value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (type.isArray) return `[${(value as unknown[]).map((v) => renderValue({ ...type, isArray: false }, v)).join(",")}]`;
  switch (type.scalar) {
    case "Float32":
    case "Float64":
      return pythonFloat(value as number);
    case "Int32":
    case "Int64":
      return (value as number | bigint).toString();
    case "Timestamp":
      return String(Math.floor((value as number) / 1_000_000));
    case "Bytes":
      return JSON.stringify(Buffer.from(value as Uint8Array).toString("base64"));
    default:
      return JSON.stringify(value);
  }
}
