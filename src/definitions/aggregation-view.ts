import type { BatchSource } from "./batch-source.js";
import type { DurationInput } from "./duration.js";
import type { Entity } from "./entity.js";
import type { AggregateFunction } from "./specs.js";
import type { StreamSource } from "./stream-source.js";
import type { ValueType } from "./value-type.js";

/** One windowed aggregate: `column` ("*" for count of events), a function, a window and its hop (tile size). */
export interface AggregationInput {
  readonly column: string;
  readonly function: AggregateFunction;
  readonly window: DurationInput;
  /** Default: 5m for windows up to 12h, 1h up to 12d, 1d beyond. */
  readonly hop?: DurationInput;
}

/**
 * An aggregation view: windowed aggregates over an event source, from one definition for both
 * training sets (batch, over tiles) and online serving (from the stream). Its features are
 * named `<column>_<function>_<window>`, e.g. `amount_sum_1h`, or `count_7d` for `*`.
 *
 * @example
 * aggregationView({
 *   name: "card_activity", entities: [card], schema: { amount: Float64, merchant: String },
 *   source: streamSource({ nats: { stream: "transactions", subject: "tx.*" }, timestampField: "ts", batch: batchSource({ path: "data/tx/*.parquet", timestampField: "ts" }) }),
 *   aggregations: [{ column: "amount", function: "sum", window: "1h" }, { column: "*", function: "count", window: "7d" }],
 *   allowedLateness: "5m",
 * });
 */
export interface AggregationViewInput {
  readonly name: string;
  readonly entities: readonly Entity[];
  /** The event columns the aggregations read (besides join keys and the timestamp). */
  readonly schema: Readonly<Record<string, ValueType>>;
  readonly source: StreamSource | BatchSource;
  readonly aggregations: readonly AggregationInput[];
  /** How far behind the newest event time an event may arrive and still count online. Default 0. */
  readonly allowedLateness?: DurationInput;
  readonly online?: boolean;
  readonly description?: string;
  readonly owner?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface AggregationView extends AggregationViewInput {
  readonly kind: "aggregationView";
}

export function aggregationView(input: AggregationViewInput): AggregationView {
  return Object.freeze({ ...input, kind: "aggregationView" });
}
