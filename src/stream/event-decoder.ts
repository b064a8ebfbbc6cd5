import type { FeatureViewSpec } from "../definitions/specs.js";
import { valueTypeFromName } from "../definitions/value-type.js";
import type { EventValue } from "../aggregation/tile-state.js";
import { coerceValue, parseTimestampMicros } from "../online/coerce-value.js";
import { encodeValue } from "../online/value-codec.js";
import { entityKey } from "../online/entity-key.js";

export interface DecodedEvent {
  readonly entityKey: string;
  readonly ts: number;
  readonly values: Record<string, EventValue>;
  /** The event as a row of the offline event log (join keys, the timestamp field in µs, event columns). */
  readonly row: Record<string, unknown>;
}

/**
 * Decodes one message (a JSON object: join keys, the source's timestamp field as ISO text or
 * epoch milliseconds, event columns) for an aggregation view; throws with the reason when it
 * is malformed. Values are coerced as the online write path does (Float32 rounded, so streaming
 * sums what the offline Parquet holds).
 */
export function decodeEvent(spec: FeatureViewSpec, data: Uint8Array | string): DecodedEvent {
  const text = typeof data === "string" ? data : Buffer.from(data).toString("utf8");
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new TypeError("the message is not a JSON object");
  const message = parsed as Record<string, unknown>;
  const field = spec.source.timestampField;
  const raw = message[field];
  const ts = typeof raw === "number" && Number.isFinite(raw) ? Math.round(raw * 1000) : parseTimestampMicros(raw, `field "${field}"`);
  const values: Record<string, EventValue> = {};
  const row: Record<string, unknown> = { [field]: ts };
  for (const k of spec.joinKeys) row[k.name] = message[k.name];
  for (const column of spec.aggregation!.events) {
    const type = valueTypeFromName(column.type)!;
    const value = coerceValue(type, message[column.name] ?? null, `field "${column.name}"`);
    values[column.name] = value === null ? null : (encodeValue(type, value) as EventValue);
    row[column.name] = value;
  }
  return { entityKey: entityKey(spec.joinKeys, message), ts, values, row };
}
