import type { FeatureViewSpec } from "../definitions/specs.js";
import { jsonValue } from "../offline/json-lines.js";
import type { DecodedEvent } from "./event-decoder.js";

/** How a stream processor writes an accepted event into its view's offline event log. */
export interface EventLogFormat {
  /** The event as one JSON line: join keys, the timestamp field and `created_timestamp` (µs), event columns. */
  line(event: DecodedEvent, createdMicros: number): string;
  /** The event's join keys, by name (what an erasure subject is matched against). */
  keys(event: DecodedEvent): Record<string, unknown>;
}

/**
 * The event-log format of an aggregation view: lines for `ingestEventLines`, built as the events
 * are applied, so a batch of half a million is not turned into objects and text all at once.
 *
 * @example
 * eventLogFormat(spec).line(event, 1_700_000_000_000_000);
 * // '{"card_id":7,"ts":1699999999000000,"created_timestamp":1700000000000000,"amount":12.5}'
 */
export function eventLogFormat(spec: FeatureViewSpec): EventLogFormat {
  const names = [...spec.joinKeys.map((k) => k.name), ...spec.aggregation!.events.map((c) => c.name)];
  const prefixes = names.map((name) => `,${JSON.stringify(name)}:`);
  const times = `,${JSON.stringify(spec.source.timestampField)}:`;
  const keyCount = spec.joinKeys.length;
  return {
    line(event, createdMicros) {
      let text = "";
      for (let i = 0; i < keyCount; i++) text += prefixes[i]! + jsonValue(event.fields[i]);
      text += `${times}${event.ts},"created_timestamp":${createdMicros}`;
      for (let i = keyCount; i < names.length; i++) text += prefixes[i]! + jsonValue(event.fields[i]);
      return `{${text.slice(1)}}`;
    },
    keys: (event) => Object.fromEntries(spec.joinKeys.map((k, i) => [k.name, event.fields[i]])),
  };
}
