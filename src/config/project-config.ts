import { z } from "zod";

/**
 * The schema of `strata.yaml`. Unknown keys are rejected; every setting has a default that
 * works with no server at all (SQLite registry and online store, local Parquet, DuckDB).
 *
 * @example
 * project: rides
 * registry: { type: postgres, url: "${STRATA_PG_URL}" }
 */
const name = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "letters, digits and _, not starting with a digit");

const sqliteStore = (defaultPath: string) => z.strictObject({ type: z.literal("sqlite"), path: z.string().min(1).default(defaultPath) });
const postgresStore = z.strictObject({
  type: z.literal("postgres"),
  /** libpq URL; `${ENV_VAR}` references are expanded. */
  url: z.string().min(1),
  /** PostgreSQL schema holding Strata's tables (created when missing). */
  schema: name.default("strata"),
});

/** The cache in front of the durable online store; every timeout and limit is a named setting. */
const cacheSchema = z
  .strictObject({
    type: z.enum(["memory", "redis", "redis-cluster"]).default("memory"),
    /** redis: the server URL (`${ENV_VAR}` allowed). */
    url: z.string().min(1).optional(),
    /** redis-cluster: seed nodes as host:port. */
    nodes: z.array(z.string().regex(/^[^:]+:\d+$/, "host:port")).min(1).optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    /** Prefixes every key (tenants get their own). */
    keyPrefix: z.string().regex(/^[A-Za-z0-9_.-]+$/).default("strata"),
    /** How long a cached entry lives; staleness of a value in cache is bounded by this. */
    ttlSeconds: z.number().positive().default(300),
    /** memory: entries kept at most. */
    maxEntries: z.number().int().positive().default(1_000_000),
    /** Hard limit on one cache read; past it the request is answered from the default snapshot. */
    readTimeoutMs: z.number().positive().default(5),
    connectTimeoutMs: z.number().positive().default(2000),
    /** While Redis is unreachable, reconnect attempts back off up to this long apart: how soon a returned Redis is used again. */
    reconnectMaxDelayMs: z.number().int().positive().default(500),
    xfetch: z.strictObject({ enabled: z.boolean().default(true), beta: z.number().positive().default(1) }).prefault({}),
    /** One durable read per key at a time within a process. */
    singleFlight: z.boolean().default(true),
    /** How long one server holds the cross-server lock on an early refresh. */
    refreshLockMs: z.number().int().positive().default(2000),
    circuit: z
      .strictObject({
        /** Share of failed or timed-out cache reads in the window that opens the circuit. */
        failureRate: z.number().gt(0).max(1).default(0.5),
        /** Reads the window must hold before the rate counts. */
        minCalls: z.number().int().positive().default(20),
        windowMs: z.number().int().positive().default(1000),
        /** How long it stays open before one probe read is let through. */
        openMs: z.number().int().positive().default(500),
      })
      .prefault({}),
    populate: z
      .strictObject({
        /** Populates waiting at most; beyond, new ones are dropped (counted) and fill on the next miss. */
        queueSize: z.number().int().positive().default(100_000),
        batchSize: z.number().int().positive().default(256),
        retries: z.number().int().nonnegative().default(3),
        retryDelayMs: z.number().int().positive().default(50),
      })
      .prefault({}),
  })
  .superRefine((cache, ctx) => {
    if (cache.type === "redis" && cache.url === undefined) ctx.addIssue({ code: "custom", path: ["url"], message: "a redis cache needs url" });
    if (cache.type === "redis-cluster" && cache.nodes === undefined) ctx.addIssue({ code: "custom", path: ["nodes"], message: "a redis-cluster cache needs nodes" });
  });

const onlineExtras = {
  // prefault: the default goes through the schema, so its own defaults fill in.
  cache: cacheSchema.prefault({}),
  /** Hard limit on one durable read (on cache misses). */
  readTimeoutMs: z.number().positive().default(1000),
  /** PostgreSQL durable store: connections. */
  poolSize: z.number().int().positive().default(10),
};

const serverSchema = z.strictObject({
  host: z.string().default("127.0.0.1"),
  port: z.number().int().min(0).max(65535).default(6566),
  /** Request bodies above this are refused with 413. */
  bodyLimitBytes: z.number().int().positive().default(1_048_576),
  /** Entity rows in one read or write request at most (400 above). */
  maxEntities: z.number().int().positive().default(10_000),
  /** The default-feature snapshot served when degraded (built by `strata snapshot build`). */
  snapshot: z.string().default(".strata/snapshot.json"),
  /** How often the server re-reads the registry for new definitions. */
  registryRefreshSeconds: z.number().positive().default(10),
  /** How often a server with an in-process cache reads the erasure ledger, dropping erased subjects' entries (see erasure-watch.ts). */
  erasurePollSeconds: z.number().positive().default(1),
  /** Degraded share of responses (over the window below) that /metrics flags as an alarm. */
  degradedAlarmRate: z.number().min(0).max(1).default(0.01),
  /** The sliding window of the degraded-rate gauge. */
  degradedWindowSeconds: z.number().int().positive().default(10),
  /** Every route but /health then needs `Authorization: Bearer <token>` (strata token create) whose scopes cover it. */
  requireTokens: z.boolean().default(false),
});

/** Recording online responses into the offline store (`_serving_log/`), for `strata explain` and training sets as served. Default: nothing logged. */
const servingLogSchema = z.strictObject({
  /** Feature service name → share of its responses logged, 0..1 (sampled per request). */
  services: z.record(name, z.number().min(0).max(1)).default({}),
  /** Share of responses to requests listing features (no service) logged, 0..1. */
  featureRefs: z.number().min(0).max(1).default(0),
  /** How often buffered responses are written (one Parquet file per flush and date). */
  flushIntervalMs: z.number().int().positive().default(1000),
  /** Rows (response × entity row) held in memory at most; beyond, responses go unlogged (counted at /metrics). */
  maxBufferedRows: z.number().int().positive().default(200_000),
  /** Writes of the same rows tried at most (one per flush) before they are dropped (counted). */
  maxWriteAttempts: z.number().int().positive().default(5),
});

export const projectConfigSchema = z.strictObject({
  project: name,
  /** The TypeScript (or JavaScript) module exporting the definitions. */
  definitions: z.string().min(1).default("features.ts"),
  registry: z.discriminatedUnion("type", [sqliteStore(".strata/registry.db"), postgresStore]).default({ type: "sqlite", path: ".strata/registry.db" }),
  offline: z.strictObject({ path: z.string().min(1).default(".strata/offline") }).default({ path: ".strata/offline" }),
  online: z
    .discriminatedUnion("type", [sqliteStore(".strata/online.db").extend(onlineExtras), postgresStore.extend(onlineExtras)])
    .prefault({ type: "sqlite" }),
  server: serverSchema.prefault({}),
  stream: z
    .strictObject({
      /** The NATS server `strata stream run` consumes JetStream from. */
      nats: z.strictObject({ url: z.string().min(1).default("nats://127.0.0.1:4222") }).prefault({}),
      /** Commit state + checkpoint and acknowledge at least this often (the freshness floor). */
      flushIntervalMs: z.number().int().positive().default(100),
      /** ... or as soon as this many events wait (under half of maxAckPending, which forces a commit there anyway). */
      flushEvents: z.number().int().positive().default(1_000_000),
      /** While behind (a backlog in the stream), commit this often instead: fewer, larger commits write each key's state once for many of its events. */
      checkpointIntervalMs: z.number().int().positive().default(5000),
      /** State rows written to the online store per second, at most (a token bucket). */
      maxWritesPerSecond: z.number().int().positive().default(200_000),
      /** How often a processor reads the erasure ledger: an erased subject's in-memory state is dropped within this. */
      erasurePollMs: z.number().int().positive().default(1000),
      /** Messages applied per step (the touched keys' stored states are loaded together). */
      batchSize: z.number().int().positive().default(5000),
      /** Messages NATS delivers ahead of the acknowledgements, at most (bounds the processor's memory). */
      maxAckPending: z.number().int().positive().default(2_500_000),
      /** Accepted events are appended to the offline event log once this many wait (between commits too)... */
      offlineFlushEvents: z.number().int().positive().default(500_000),
      /** ... or at least this often. */
      offlineFlushMs: z.number().int().positive().default(5000),
      /** Where `strata stream run` serves /metrics (on server.host). */
      metricsPort: z.number().int().min(0).max(65535).default(6567),
    })
    .prefault({}),
  servingLog: servingLogSchema.prefault({}),
  audit: z
    .strictObject({
      /** The environment variable holding the key that signs audit entries (HMAC-SHA256); unset: entries are chained, not signed. The key is never stored. */
      hmacKeyEnv: z.string().min(1).default("STRATA_AUDIT_KEY"),
      /** Views whose data reads (online requests, training sets) are audited too, with the reader (token name or actor). */
      reads: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  duckdb: z
    .strictObject({
      /** Worker threads for DuckDB; default: all cores. */
      threads: z.number().int().positive().optional(),
      /** e.g. "8GB"; default: DuckDB's own (80% of RAM). Larger-than-memory work spills to `tempDirectory`. */
      memoryLimit: z.string().optional(),
      tempDirectory: z.string().optional(),
    })
    .default({}),
});

export type ProjectConfigInput = z.input<typeof projectConfigSchema>;
type Parsed = z.output<typeof projectConfigSchema>;

export type SqliteStoreConfig = { readonly type: "sqlite"; readonly path: string };
export type PostgresStoreConfig = { readonly type: "postgres"; readonly url: string; readonly schema: string };
export type StoreConfig = SqliteStoreConfig | PostgresStoreConfig;

export type CacheConfig = z.output<typeof cacheSchema>;
export type OnlineConfig = StoreConfig & { readonly cache: CacheConfig; readonly readTimeoutMs: number; readonly poolSize: number };
export type ServerConfig = Parsed["server"];

/** A validated configuration with every path made absolute. */
export interface ProjectConfig {
  readonly projectDir: string;
  readonly project: string;
  readonly definitions: string;
  readonly registry: StoreConfig;
  readonly offline: { readonly path: string };
  readonly online: OnlineConfig;
  readonly server: ServerConfig;
  readonly stream: Parsed["stream"];
  readonly duckdb: Parsed["duckdb"];
  readonly audit: Parsed["audit"];
  readonly servingLog: Parsed["servingLog"];
}
