import { valueTypeFromName, type ValueType } from "../definitions/value-type.js";

/**
 * Feature values as the online tier stores them: JSON, by feature name (so additive changes
 * to a view keep old records readable). JSON has no bigint, bytes, timestamps or NaN, so:
 * Int64 beyond 2^53 → decimal string; Bytes → base64; Timestamp → epoch microseconds;
 * non-finite floats → "NaN" / "Infinity" / "-Infinity".
 */
export type EncodedValue = string | number | boolean | null | EncodedValue[];

export function encodeValue(type: ValueType, value: unknown): EncodedValue {
  if (value === null || value === undefined) return null;
  if (type.isArray) return (value as unknown[]).map((v) => encodeValue({ ...type, isArray: false }, v));
  switch (type.scalar) {
    case "Int32":
    case "Int64":
      return typeof value === "bigint" ? (Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()) : (value as number);
    case "Float32":
    case "Float64":
      // JSON has no NaN, infinities or -0: those are kept as text.
      return Number.isFinite(value) && !Object.is(value, -0) ? (value as number) : (value as number).toString();
    case "Timestamp":
      return value instanceof Date ? value.getTime() * 1000 : Number(value);
    case "Bytes":
      return Buffer.from(value as Uint8Array).toString("base64");
    default:
      return value as string | boolean;
  }
}

export function decodeValue(type: ValueType, value: EncodedValue): unknown {
  if (value === null) return null;
  if (type.isArray) return (value as EncodedValue[]).map((v) => decodeValue({ ...type, isArray: false }, v));
  switch (type.scalar) {
    case "Int64":
      return typeof value === "string" ? BigInt(value) : value;
    case "Float32":
    case "Float64":
      return typeof value === "string" ? Number(value) : value;
    case "Bytes":
      return Buffer.from(value as string, "base64");
    default:
      return value;
  }
}

/** A feature with its type resolved (once per batch, not per value). */
export interface TypedField {
  readonly name: string;
  readonly type: ValueType;
}

export function typedFields(features: readonly { name: string; type: string }[]): TypedField[] {
  return features.map((f) => ({ name: f.name, type: valueTypeFromName(f.type)! }));
}

/** Encodes one record's features to the stored JSON text; `valueAt` gives each field's (i-th) value. */
export function encodeValues(fields: readonly TypedField[], valueAt: (field: TypedField, i: number) => unknown): string {
  const out: Record<string, EncodedValue> = {};
  fields.forEach((f, i) => (out[f.name] = encodeValue(f.type, valueAt(f, i))));
  return JSON.stringify(out);
}
