import type { ValueType } from "./value-type.js";

/**
 * An entity is the thing features describe (a driver, a card); its join keys identify one.
 *
 * @example
 * const driver = entity({ name: "driver", joinKeys: ["driver_id"] });
 * const trip = entity({ name: "trip", joinKeys: ["city", "trip_id"], valueType: { city: String, trip_id: Int64 } });
 */
export interface EntityInput {
  readonly name: string;
  /** Defaults to `[name]`, as in Feast. */
  readonly joinKeys?: readonly string[];
  /** One type for every key, or one per key. Defaults to Int64. */
  readonly valueType?: ValueType | Readonly<Record<string, ValueType>>;
  readonly description?: string;
  readonly owner?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface Entity extends EntityInput {
  readonly kind: "entity";
}

export function entity(input: EntityInput): Entity {
  return Object.freeze({ ...input, kind: "entity" });
}
