import type { FeatureViewSpec } from "../definitions/specs.js";
import { valueTypeFromName, type ValueType } from "../definitions/value-type.js";
import type { EventValue } from "../aggregation/tile-state.js";
import { coerceValue, parseTimestampMicros } from "../online/coerce-value.js";
import { encodeValue } from "../online/value-codec.js";
import { entityKey } from "../online/entity-key.js";

export interface DecodedEvent {
  readonly entityKey: string;
  /** Event time, µs. */
  readonly ts: number;
  /** The event columns' values as the tile state folds them. */
  readonly values: Record<string, EventValue>;
  /** The join keys' values, then the event columns' (coerced), in the order of the view's event log columns (see event-log-line.ts). */
  readonly fields: readonly unknown[];
}

/** Decodes one message (its UTF-8 text) for an aggregation view (see `eventDecoder`). */
export type EventDecoder = (data: string) => DecodedEvent;

/**
 * A decoder of messages (JSON objects: join keys, the source's timestamp field as ISO text or
 * epoch milliseconds, event columns) for an aggregation view; it throws with the reason when a
 * message is malformed. Values are coerced as the online write path does (Float32 rounded, so
 * streaming sums what the offline Parquet holds). The column types are resolved once, here.
 */
export function eventDecoder(spec: FeatureViewSpec): EventDecoder {
  const field = spec.source.timestampField;
  // Each column's name in errors, made once: coerceValue takes it for every value.
  const columns = spec.aggregation!.events.map((c): [string, ValueType, string] => [c.name, valueTypeFromName(c.type)!, `field "${c.name}"`]);
  const keyNames = spec.joinKeys.map((k) => k.name);
  return (data) => {
    const parsed: unknown = JSON.parse(data);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new TypeError("the message is not a JSON object");
    const message = parsed as Record<string, unknown>;
    const raw = message[field];
    const ts = typeof raw === "number" && Number.isFinite(raw) ? Math.round(raw * 1000) : parseTimestampMicros(raw, `field "${field}"`);
    const values: Record<string, EventValue> = {};
    const fields: unknown[] = [];
    for (const name of keyNames) fields.push(message[name]);
    for (const [name, type, where] of columns) {
      const value = coerceValue(type, message[name] ?? null, where);
      values[name] = value === null ? null : (encodeValue(type, value) as EventValue);
      fields.push(value);
    }
    return { entityKey: entityKey(spec.joinKeys, message), ts, values, fields };
  };
}
