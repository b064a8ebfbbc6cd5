import type { FeatureViewSpec } from "../definitions/specs.js";
import { jsonLine } from "../offline/json-lines.js";
import type { DecodedEvent } from "./event-decoder.js";
import type { LineBatch } from "../offline/line-batch.js";

/** How a stream processor writes an accepted event into its view's offline event log. */
export interface EventLogFormat {
  /** Appends the event as one JSON line: join keys, event columns, the timestamp field and `created_timestamp` (µs). */
  append(batch: LineBatch, event: DecodedEvent, createdMicros: number): void;
  /** The event's join keys, by name (what an erasure subject is matched against). */
  keys(event: DecodedEvent): Record<string, unknown>;
}

/**
 * The event-log format of an aggregation view: lines for `ingestEventLines`, built as the events
 * are applied, so a batch of half a million is not turned into objects and text all at once.
 * The decoder gives an event's fields in the same order (join keys, then event columns).
 *
 * @example
 * eventLogFormat(spec).append(batch, event, 1_700_000_000_000_000);
 * // batch gains '{"card_id":7,"amount":12.5,"ts":1699999999000000,"created_timestamp":1700000000000000}'
 */
export function eventLogFormat(spec: FeatureViewSpec): EventLogFormat {
  const names = [...spec.joinKeys.map((k) => k.name), ...spec.aggregation!.events.map((c) => c.name), spec.source.timestampField, "created_timestamp"];
  const line = jsonLine(names);
  // One line's values, reused: an array per event was garbage at every event.
  const row: unknown[] = names.map(() => null);
  return {
    append: (batch, event, createdMicros) => {
      const n = event.fields.length;
      for (let i = 0; i < n; i++) row[i] = event.fields[i];
      row[n] = event.ts;
      row[n + 1] = createdMicros;
      line(batch, row);
    },
    keys: (event) => Object.fromEntries(spec.joinKeys.map((k, i) => [k.name, event.fields[i]])),
  };
}
