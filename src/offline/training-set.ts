import { rename, rm } from "node:fs/promises";
import { InvalidRequestError } from "../errors.js";
import { quoteIdent, quoteString } from "../util/sql.js";
import type { Table } from "apache-arrow";
import { toArrowTable } from "./arrow-table.js";
import type { DuckDb } from "./duckdb.js";
import { formatOf } from "./read-files-sql.js";

export interface ViewMatch {
  readonly view: string;
  readonly version: number;
  /** Entity rows that found a feature row (within TTL). */
  readonly matched: number;
  readonly matchRate: number;
}

/**
 * The result of a point-in-time retrieval, held in DuckDB until read: as rows, as an Arrow
 * table, or written to Parquet/CSV. Call `close()` to free it.
 */
export class TrainingSet {
  constructor(
    private readonly duck: DuckDb,
    private readonly table: string,
    /** Output columns, in order: the entity columns, then the features. */
    readonly columns: readonly { readonly name: string; readonly sqlType: string }[],
    readonly rowCount: number,
    readonly views: readonly ViewMatch[],
    readonly seconds: number,
  ) {}

  /** The table was filled in input order, and DuckDB keeps insertion order: no sort needed to read it out. */
  private select(expressions = this.columns.map((c) => quoteIdent(c.name))): string {
    return `SELECT ${expressions.join(", ")} FROM ${this.table}`;
  }

  /** Rows as objects. Integers that fit a JS number are numbers (others stay bigint); timestamps are Dates. */
  async toRows(): Promise<Record<string, unknown>[]> {
    const rows = await this.duck.rows(this.select());
    for (const row of rows) {
      for (const [key, value] of Object.entries(row)) {
        if (typeof value === "bigint" && value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)) row[key] = Number(value);
      }
    }
    return rows;
  }

  async toArrow(): Promise<Table> {
    const isTimestamp = (t: string): boolean => t === "TIMESTAMP WITH TIME ZONE";
    const expressions = this.columns.map((c) => (isTimestamp(c.sqlType) ? `epoch_us(${quoteIdent(c.name)}) AS ${quoteIdent(c.name)}` : quoteIdent(c.name)));
    const rows = await this.duck.rows(this.select(expressions));
    return toArrowTable(this.columns.map((c) => ({ ...c, values: rows.map((r) => r[c.name]) })));
  }

  /** Writes Parquet or CSV (by extension) to a temporary name, then renames: no half-written output. */
  async write(path: string, onProgress?: (percent: number) => void): Promise<void> {
    const format = formatOf(path);
    if (format === undefined) throw new InvalidRequestError(`cannot tell the output format of "${path}": use .parquet or .csv`);
    const tmp = `${path}.tmp-${process.pid}`;
    try {
      await this.duck.run(`COPY (${this.select()}) TO ${quoteString(tmp)} (FORMAT ${format === "csv" ? "csv, HEADER" : "parquet"})`, onProgress);
      await rename(tmp, path);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async close(): Promise<void> {
    await this.duck.run(`DROP TABLE IF EXISTS ${this.table}`);
  }
}
