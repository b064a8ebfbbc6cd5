import type { JoinKeySpec } from "../definitions/specs.js";
import { InvalidRequestError } from "../errors.js";

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

const INT_LIMITS: Record<string, [bigint, bigint]> = { Int32: [-(2n ** 31n), 2n ** 31n - 1n], Int64: [-(2n ** 63n), 2n ** 63n - 1n] };

function keyPart(type: string, value: unknown, name: string): string {
  if (type === "String") {
    if (typeof value === "string") return JSON.stringify(value);
  } else if (type === "Int64" && typeof value === "number" && Number.isSafeInteger(value)) {
    return String(value); // the common case, without BigInt
  } else if ((typeof value === "number" && Number.isSafeInteger(value)) || typeof value === "bigint" || (typeof value === "string" && /^-?\d+$/.test(value))) {
    const n = BigInt(value);
    const [lo, hi] = INT_LIMITS[type]!;
    if (n >= lo && n <= hi) return n.toString();
  }
  throw new InvalidRequestError(`join key "${name}" must be ${type === "String" ? "a string" : `an ${type} integer`}, got ${value === undefined ? "nothing" : JSON.stringify(typeof value === "bigint" ? value.toString() : value)}`);
}
