import { mkdir, open, rename, rm } from "node:fs/promises";
import { syncDir, syncFile } from "../offline/commit-log.js";
import { DuckDb, type DuckDbOptions } from "../offline/duckdb.js";
import { newPartId, ServingLogLayout } from "./serving-log-layout.js";
import { linesToParquetSql } from "./serving-log-sql.js";

/** Where the serving log's buffered rows go: one file per call, visible whole or not at all. */
export interface ServingLogSink {
  /** Writes the rows (log lines, see renderPacked, in chunks; `features` the texts they refer to) as one file of the date partition. */
  write(date: string, chunks: readonly Buffer[], features: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Writes each batch as tab-separated lines to a staging file, has DuckDB turn it into Parquet
 * with the log's explicit column types, fsyncs, and renames it into `date=YYYY-MM-DD/`. DuckDB
 * (its own instance, one thread: it shares the machine with the server) opens on the first write
 * and converts on the calling thread, which it blocks meanwhile: meant for the log's worker.
 */
export class ParquetLogSink implements ServingLogSink {
  private readonly layout: ServingLogLayout;
  private duck: Promise<DuckDb> | undefined;

  constructor(
    offlineRoot: string,
    private readonly duckOptions: DuckDbOptions = {},
  ) {
    this.layout = new ServingLogLayout(offlineRoot);
  }

  private engine(): Promise<DuckDb> {
    this.duck ??= (async () => {
      // What writers killed mid-write left behind (this process's pid is alive: its files are never taken).
      for (const file of await this.layout.abandonedStagingFiles()) await rm(file, { force: true });
      return DuckDb.open({ threads: 1, ...this.duckOptions });
    })();
    // A failed open is retried on the next write.
    void this.duck.catch(() => (this.duck = undefined));
    return this.duck;
  }

  async write(date: string, chunks: readonly Buffer[], features: readonly string[]): Promise<void> {
    const duck = await this.engine();
    const id = newPartId();
    const lines = this.layout.stagingFile(id, "tsv");
    const parquet = this.layout.stagingFile(id, "parquet");
    try {
      await mkdir(this.layout.stagingDir, { recursive: true });
      const handle = await open(lines, "w");
      try {
        // A few hundred buffers per call: writev takes at most IOV_MAX (1024) at once.
        for (let i = 0; i < chunks.length; i += 512) {
          const part = chunks.slice(i, i + 512);
          const { bytesWritten } = await handle.writev(part);
          if (bytesWritten !== part.reduce((n, b) => n + b.length, 0)) throw new Error(`short write to ${lines}`);
        }
      } finally {
        await handle.close();
      }
      // On this thread (the log's writer, at its lower priority), not Node's shared pool.
      await duck.runHere(linesToParquetSql(lines, parquet, features));
      await syncFile(parquet);
      const dir = this.layout.partitionDir(date);
      await mkdir(dir, { recursive: true });
      await rename(parquet, this.layout.partFile(date, id));
      await syncDir(dir);
    } finally {
      await rm(lines, { force: true });
      await rm(parquet, { force: true });
    }
  }

  async close(): Promise<void> {
    const duck = await this.duck?.catch(() => undefined);
    duck?.close();
  }
}
