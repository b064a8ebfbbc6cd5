/**
 * A batch source: Parquet or CSV files holding a view's history, one row per event.
 *
 * @example
 * batchSource({ path: "data/driver_stats.parquet", timestampField: "event_timestamp", createdTimestampField: "created" });
 */
export interface BatchSourceInput {
  /** Relative to the project folder; globs such as "data/tx/*.parquet" are allowed. */
  readonly path: string;
  readonly timestampField: string;
  /** When the source has none, ingestion stamps rows with the ingest wall-clock time. */
  readonly createdTimestampField?: string;
  /** Inferred from the extension when omitted. */
  readonly format?: "parquet" | "csv";
  /** Source column → feature or join key name. */
  readonly fieldMapping?: Readonly<Record<string, string>>;
  readonly name?: string;
}

export interface BatchSource extends BatchSourceInput {
  readonly kind: "batchSource";
}

export function batchSource(input: BatchSourceInput): BatchSource {
  return Object.freeze({ ...input, kind: "batchSource" });
}
