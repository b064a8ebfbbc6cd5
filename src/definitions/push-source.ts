import type { BatchSource } from "./batch-source.js";

/**
 * A push source: rows arrive by `POST /push` (or the library) instead of being read from files,
 * and `batchSource` says where the view's history lives for training sets and backfills.
 *
 * @example
 * const pushed = pushSource({ name: "driver_stats_push", batchSource: batchSource({ path: "data/driver_stats.parquet", timestampField: "event_timestamp" }) });
 * featureView({ name: "driver_stats_fresh", entities: [driver], schema: { conv_rate: Float32 }, source: pushed });
 */
export interface PushSourceInput {
  readonly name: string;
  readonly batchSource: BatchSource;
  readonly description?: string;
}

export interface PushSource extends PushSourceInput {
  readonly kind: "pushSource";
}

export function pushSource(input: PushSourceInput): PushSource {
  return Object.freeze({ ...input, kind: "pushSource" });
}
