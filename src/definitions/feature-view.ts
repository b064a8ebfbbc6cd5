import type { BatchSource } from "./batch-source.js";
import type { PushSource } from "./push-source.js";
import type { DurationInput } from "./duration.js";
import type { Entity } from "./entity.js";
import type { JsonScalar } from "./specs.js";
import type { ValueType } from "./value-type.js";

/** A feature with more than a type: a description, or the default served when degraded. */
export interface FieldInput {
  readonly type: ValueType;
  readonly description?: string;
  readonly default?: JsonScalar | readonly number[];
}

/**
 * A feature view: features of some entities, read from a source, valid for `ttl` after their event.
 *
 * @example
 * const driverStats = featureView({
 *   name: "driver_hourly_stats", entities: [driver], ttl: "2d",
 *   schema: { conv_rate: Float32, avg_daily_trips: { type: Int64, default: 0 } },
 *   source: batchSource({ path: "data/driver_stats.parquet", timestampField: "event_timestamp" }),
 * });
 */
export interface FeatureViewInput {
  readonly name: string;
  readonly entities: readonly Entity[];
  readonly schema: Readonly<Record<string, ValueType | FieldInput>>;
  /** Files (a batch source), or rows pushed to the server (a push source, which names its batch source). */
  readonly source: BatchSource | PushSource;
  /** Omitted, null or 0: values never expire. */
  readonly ttl?: DurationInput | null;
  /** Whether the view is served online (materialized). Defaults to true. */
  readonly online?: boolean;
  readonly description?: string;
  readonly owner?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface FeatureView extends FeatureViewInput {
  readonly kind: "featureView";
}

export function featureView(input: FeatureViewInput): FeatureView {
  return Object.freeze({ ...input, kind: "featureView" });
}
