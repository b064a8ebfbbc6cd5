/**
 * Normalized, serializable forms of definitions: what `compileDefinitions` produces from the
 * objects users write, what the registry stores and hashes, and what every other module reads.
 * Types are stored by name (see value-type.ts); durations as whole seconds.
 */
export type JsonScalar = string | number | boolean | null;

export interface Metadata {
  readonly description: string;
  readonly owner: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface JoinKeySpec {
  readonly name: string;
  readonly type: string;
}

export interface EntitySpec extends Metadata {
  readonly name: string;
  readonly joinKeys: readonly JoinKeySpec[];
}

export type SourceFormat = "parquet" | "csv";

export interface BatchSourceSpec {
  readonly kind: "batch";
  readonly name: string;
  /** As written in the definition; relative paths resolve against the project folder. May be a glob. */
  readonly path: string;
  readonly format: SourceFormat;
  readonly timestampField: string;
  readonly createdTimestampField: string | null;
  /** Source column name → feature or join key name. */
  readonly fieldMapping: Readonly<Record<string, string>>;
}

export interface FeatureSpec {
  readonly name: string;
  readonly type: string;
  readonly description: string;
  /** Served when the online tier is degraded; absent means "derive from offline data". */
  readonly default?: JsonScalar | readonly number[];
}

export interface FeatureViewSpec extends Metadata {
  readonly name: string;
  readonly entities: readonly string[];
  readonly joinKeys: readonly JoinKeySpec[];
  readonly features: readonly FeatureSpec[];
  /** null: values never expire. */
  readonly ttlSeconds: number | null;
  readonly online: boolean;
  readonly source: BatchSourceSpec;
  /** The push source rows may also arrive through, if the view's source is one. */
  readonly pushSource: string | null;
  /** Present on aggregation views: `features` are then the aggregates, computed from these events. */
  readonly aggregation?: AggregationSpec;
}

export const AGGREGATE_FUNCTIONS = ["count", "sum", "mean", "min", "max", "last"] as const;
export type AggregateFunction = (typeof AGGREGATE_FUNCTIONS)[number];

/** One windowed aggregate (DESIGN.md's window contract); durations in seconds. */
export interface AggregateSpec {
  /** The output feature, e.g. `amount_sum_1h`. */
  readonly name: string;
  /** null: count of events (`*`). */
  readonly column: string | null;
  readonly function: AggregateFunction;
  readonly windowSeconds: number;
  readonly hopSeconds: number;
}

export interface AggregationSpec {
  /** The event columns stored in the view's offline event log (besides join keys and times). */
  readonly events: readonly FeatureSpec[];
  readonly aggregates: readonly AggregateSpec[];
  readonly allowedLatenessSeconds: number;
  /** The JetStream subject events arrive on; null for a view fed by files and `/push` only. */
  readonly nats: { readonly stream: string; readonly subject: string } | null;
  /** SHA-256 of what determines the values (keys, event columns, aggregates): batch and streaming both derive from it. */
  readonly transformHash: string;
}

export interface FeatureServiceSpec extends Metadata {
  readonly name: string;
  readonly features: readonly { readonly view: string; readonly features: readonly string[] }[];
}

export interface RepoSpec {
  readonly entities: readonly EntitySpec[];
  readonly featureViews: readonly FeatureViewSpec[];
  readonly featureServices: readonly FeatureServiceSpec[];
}

/** Column names every offline row carries besides join keys and features. */
export const EVENT_TIMESTAMP = "event_timestamp";
export const CREATED_TIMESTAMP = "created_timestamp";
/** The offline store's Hive partition column (`date=YYYY-MM-DD` folders). */
export const PARTITION_COLUMN = "date";
/** Names no feature or join key may take: the offline store's own columns. */
export const RESERVED_COLUMNS: ReadonlySet<string> = new Set([EVENT_TIMESTAMP, CREATED_TIMESTAMP, PARTITION_COLUMN]);
