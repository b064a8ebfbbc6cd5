import type { JoinKeySpec } from "../definitions/specs.js";
import { InvalidRequestError } from "../errors.js";
import { parseInteger } from "./coerce-value.js";

/**
 * The canonical text of an entity's join key values, in the view's key order: integers as
 * decimal digits, strings JSON-quoted, joined by commas. Unambiguous, and the same whether the
 * key came from a request, a push or the offline store, so all layers agree on identity.
 *
 * @example
 * entityKey([{ name: "driver_id", type: "Int64" }], { driver_id: 1001 }); // "1001"
 * entityKey([{ name: "city", type: "String" }, { name: "zone", type: "Int32" }], { city: "ams", zone: 2 }); // "\"ams\",2"
 */
export function entityKey(joinKeys: readonly JoinKeySpec[], row: Readonly<Record<string, unknown>>): string {
  let key = "";
  for (let i = 0; i < joinKeys.length; i++) {
    const { name, type } = joinKeys[i]!;
    const part = keyPart(type, row[name], name);
    key = i === 0 ? part : `${key},${part}`;
  }
  return key;
}

function keyPart(type: string, value: unknown, name: string): string {
  if (type === "String") {
    if (typeof value === "string") return JSON.stringify(value);
  } else if (type === "Int64" && typeof value === "number" && Number.isSafeInteger(value)) {
    return String(value); // the common case, without BigInt
  } else if ((type === "Int32" || type === "Int64") && (typeof value !== "number" || Number.isSafeInteger(value))) {
    // A number beyond 2^53 is not the integer it claims to be: refused as a key.
    const n = parseInteger(type, value);
    if (n !== undefined) return n.toString();
  }
  throw new InvalidRequestError(`join key "${name}" must be ${type === "String" ? "a string" : `an ${type} integer`}, got ${value === undefined ? "nothing" : JSON.stringify(typeof value === "bigint" ? value.toString() : value)}`);
}
