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

export const projectConfigSchema = z.strictObject({
  project: name,
  /** The TypeScript (or JavaScript) module exporting the definitions. */
  definitions: z.string().min(1).default("features.ts"),
  registry: z.discriminatedUnion("type", [sqliteStore(".strata/registry.db"), postgresStore]).default({ type: "sqlite", path: ".strata/registry.db" }),
  offline: z.strictObject({ path: z.string().min(1).default(".strata/offline") }).default({ path: ".strata/offline" }),
  online: z.discriminatedUnion("type", [sqliteStore(".strata/online.db"), postgresStore]).default({ type: "sqlite", path: ".strata/online.db" }),
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

/** A validated configuration with every path made absolute. */
export interface ProjectConfig {
  readonly projectDir: string;
  readonly project: string;
  readonly definitions: string;
  readonly registry: StoreConfig;
  readonly offline: { readonly path: string };
  readonly online: StoreConfig;
  readonly duckdb: Parsed["duckdb"];
}
