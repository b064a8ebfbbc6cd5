import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance, DuckDBPendingResultState, timestampTZValue, type DuckDBConnection } from "@duckdb/node-api";

export interface DuckDbOptions {
  readonly threads?: number;
  readonly memoryLimit?: string;
  /** Where larger-than-memory work spills; default: a private folder under the OS temp dir. */
  readonly tempDirectory?: string;
}

export type AppendType = "BIGINT" | "DOUBLE" | "VARCHAR" | "BOOLEAN" | "TIMESTAMPTZ";

/** How often a running query's progress is sampled for the terminal (ms). */
export const PROGRESS_POLL_MS = 200;

/**
 * One embedded DuckDB (in memory, UTC session) with one connection. Calls are serialized by
 * the caller; `run` can report the engine's own progress (0..100) while a statement executes.
 */
export class DuckDb {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly ownTempDir: string | undefined,
  ) {}

  /** The private folder larger-than-memory work spills to, when no temp directory was configured. */
  get spillDirectory(): string | undefined {
    return this.ownTempDir;
  }

  static async open(options: DuckDbOptions = {}): Promise<DuckDb> {
    // A path only: DuckDB creates the folder when it first spills (and removes it on close), so a
    // process killed before closing leaves nothing behind unless it spilled.
    const ownTempDir = options.tempDirectory === undefined ? join(tmpdir(), `strata-duckdb-${randomUUID()}`) : undefined;
    const config: Record<string, string> = { temp_directory: options.tempDirectory ?? ownTempDir! };
    if (options.threads !== undefined) config.threads = String(options.threads);
    if (options.memoryLimit !== undefined) config.memory_limit = options.memoryLimit;
    const instance = await DuckDBInstance.create(":memory:", config);
    const connection = await instance.connect();
    // Naive timestamps mean UTC; ICU (built in) is loaded by the time a connection exists.
    await connection.run("SET TimeZone = 'UTC'");
    // Track query progress (for `run`'s listener) without DuckDB printing a bar of its own.
    await connection.run("SET enable_progress_bar = true; SET enable_progress_bar_print = false");
    return new DuckDb(instance, connection, ownTempDir);
  }

  async run(sql: string, onProgress?: (percent: number) => void): Promise<void> {
    if (onProgress === undefined) {
      await this.connection.run(sql);
      return;
    }
    const timer = setInterval(() => {
      const { percentage } = this.connection.progress;
      if (percentage >= 0) onProgress(percentage);
    }, PROGRESS_POLL_MS);
    try {
      await this.connection.run(sql);
    } finally {
      clearInterval(timer);
    }
  }

  /**
   * Runs a statement's work on the calling thread, task by task, instead of Node's shared thread
   * pool: a worker thread (the serving log's writer) runs it at its own, lower, priority. Blocks
   * that thread while it runs.
   */
  async runHere(sql: string): Promise<void> {
    const pending = await this.connection.start(sql);
    for (let state = pending.runTask(); state !== DuckDBPendingResultState.RESULT_READY; state = pending.runTask()) {
      // Tasks of this statement running on DuckDB's own threads, if it has any: let them finish.
      if (state === DuckDBPendingResultState.NO_TASKS_AVAILABLE) await new Promise((resolve) => setImmediate(resolve));
    }
    await pending.getResult();
  }

  /** Rows as plain JS objects (BIGINT → bigint, timestamps → Date, lists → arrays). */
  async rows(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowObjectsJS();
  }

  /** Streams a query's rows chunk by chunk (a few thousand rows each), so results need not fit in memory. */
  async *stream(sql: string): AsyncGenerator<Record<string, unknown>[]> {
    const result = await this.connection.stream(sql);
    for await (const rows of result.yieldRowObjectJs()) yield rows;
  }

  /** Column names and DuckDB type names of a query's result, without running it to completion. */
  async describe(sql: string): Promise<{ name: string; type: string }[]> {
    const reader = await this.connection.runAndReadAll(`DESCRIBE ${sql}`);
    return reader.getRowObjectsJS().map((r) => ({ name: r.column_name as string, type: r.column_type as string }));
  }

  /**
   * Appends JS values to an existing table whose column types are given (BIGINT, DOUBLE,
   * VARCHAR, BOOLEAN, TIMESTAMPTZ); null/undefined append NULL.
   */
  async appendRows(table: string, columns: readonly { name: string; type: AppendType }[], rows: readonly Record<string, unknown>[]): Promise<void> {
    const appender = await this.connection.createAppender(table);
    try {
      for (const row of rows) {
        for (const { name, type } of columns) {
          const value = row[name];
          if (value === null || value === undefined) appender.appendNull();
          else if (type === "BIGINT") appender.appendBigInt(BigInt(value as number | bigint));
          else if (type === "DOUBLE") appender.appendDouble(value as number);
          else if (type === "BOOLEAN") appender.appendBoolean(value as boolean);
          else if (type === "TIMESTAMPTZ") appender.appendTimestampTZ(timestampTZValue(BigInt((value as Date).getTime()) * 1000n));
          else appender.appendVarchar(typeof value === "string" ? value : JSON.stringify(value));
        }
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
    if (this.ownTempDir !== undefined) rmSync(this.ownTempDir, { recursive: true, force: true });
  }
}
