/**
 * Feature value types, in Feast's vocabulary. A type is a small frozen descriptor that
 * serializes to its `name` ("Float32", "Array<Float32>") in the registry.
 *
 * @example
 * import { Float32, arrayOf } from "strata";
 * const schema = { conv_rate: Float32, embedding: arrayOf(Float32) };
 */
export type ScalarTypeName = "Int32" | "Int64" | "Float32" | "Float64" | "String" | "Bool" | "Timestamp" | "Bytes";

export interface ValueType {
  readonly kind: "valueType";
  readonly name: string;
  readonly scalar: ScalarTypeName;
  readonly isArray: boolean;
}

const scalarNames: readonly ScalarTypeName[] = ["Int32", "Int64", "Float32", "Float64", "String", "Bool", "Timestamp", "Bytes"];
const numericScalars: ReadonlySet<ScalarTypeName> = new Set(["Int32", "Int64", "Float32", "Float64"]);

function scalarType(scalar: ScalarTypeName): ValueType {
  return Object.freeze({ kind: "valueType", name: scalar, scalar, isArray: false });
}

export const Int32 = scalarType("Int32");
export const Int64 = scalarType("Int64");
export const Float32 = scalarType("Float32");
export const Float64 = scalarType("Float64");
export const String = scalarType("String");
export const Bool = scalarType("Bool");
export const Timestamp = scalarType("Timestamp");
export const Bytes = scalarType("Bytes");

/** An array of numbers, e.g. an embedding: `arrayOf(Float32)`. */
export function arrayOf(element: ValueType): ValueType {
  if (element.isArray || !numericScalars.has(element.scalar)) {
    throw new TypeError(`arrayOf() takes a numeric scalar type (Int32, Int64, Float32, Float64), got ${element.name}`);
  }
  return Object.freeze({ kind: "valueType", name: `Array<${element.scalar}>`, scalar: element.scalar, isArray: true });
}

export function isValueType(value: unknown): value is ValueType {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "valueType";
}

export function isNumeric(type: ValueType): boolean {
  return !type.isArray && numericScalars.has(type.scalar);
}

/** Parses a registry type name back into its descriptor; undefined for unknown names. */
export function valueTypeFromName(name: string): ValueType | undefined {
  const match = /^Array<(\w+)>$/.exec(name);
  const scalar = (match?.[1] ?? name) as ScalarTypeName;
  if (!scalarNames.includes(scalar)) return undefined;
  if (match === null) return scalarType(scalar);
  return numericScalars.has(scalar) ? arrayOf(scalarType(scalar)) : undefined;
}

export const valueTypeNames: readonly string[] = [...scalarNames, ...[...numericScalars].map((s) => `Array<${s}>`)];

/** "a Float32", "an Int64": for messages that name a type. */
export function withArticle(type: ValueType): string {
  return `${/^[AEIOU]/.test(type.name) ? "an" : "a"} ${type.name}`;
}
