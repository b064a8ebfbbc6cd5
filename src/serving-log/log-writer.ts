import { ByteLines } from "../util/byte-lines.js";
import { renderPacked, planShape, type LineBatch, type LineTarget, type PlanShape, type PlanSpec } from "./log-rows.js";
import { unpack, type TransferablePacked } from "./packed-transfer.js";
import type { ServingLogSink } from "./parquet-log-sink.js";
import { logDate } from "./serving-log-layout.js";

/** What a flush did, in rows (response × entity row) and responses. */
export interface FlushReport {
  readonly files: number;
  /** Written. */
  readonly rows: number;
  readonly responses: number;
  /** File writes that failed (their rows wait for the next flush, or are given up below). */
  readonly failures: number;
  /** Responses whose writes failed maxWriteAttempts times, or that could not be rendered, and their rows. */
  readonly writeFailed: { readonly responses: number; readonly rows: number };
  readonly unloggable: { readonly responses: number; readonly rows: number };
}

/** Where the serving log sends packed responses (see log-rows.ts): in this thread, or a worker's. */
export interface LogWriter {
  /** Declares a plan before the first response packed with its id. */
  plan(id: number, spec: PlanSpec): void;
  /** Packed responses (see packResponse): `responses` of them, `rows` rows in all. */
  rows(packed: TransferablePacked, rows: number, responses: number): void;
  /** Writes what it holds (one file per date); resolves with what happened. */
  flush(): Promise<FlushReport>;
  close(): Promise<void>;
}

/** Rows of one date, written as one file: log lines (bytes, off the JS heap) and the `features` texts they refer to. */
class Batch implements LineBatch {
  readonly lines = new ByteLines();
  readonly features: string[] = [];
  private readonly indexes = new Map<PlanShape, number>();
  rows = 0;
  responses = 0;

  constructor(readonly date: string) {}

  featuresIndex(shape: PlanShape): number {
    let index = this.indexes.get(shape);
    if (index === undefined) this.indexes.set(shape, (index = this.features.push(shape.features)));
    return index;
  }
}

/** A batch as written (or, when its write failed, kept for the next flush). */
interface Retry {
  readonly date: string;
  readonly chunks: Buffer[];
  readonly features: readonly string[];
  readonly rows: number;
  readonly responses: number;
  attempts: number;
}

/**
 * Renders packed responses into log lines per date as they arrive, and writes each date's
 * lines as one file through `sink` on flush. A failed write is kept for the next flush, up to
 * `maxWriteAttempts`, then given up (counted).
 */
export class LineBatches implements LogWriter {
  private readonly shapes = new Map<number, PlanShape>();
  private staged = new Map<string, Batch>();
  private retry: Retry[] = [];
  private unloggable = { responses: 0, rows: 0 };

  constructor(
    private readonly sink: ServingLogSink,
    private readonly maxWriteAttempts: number,
  ) {}

  plan(id: number, spec: PlanSpec): void {
    this.shapes.set(id, planShape(spec));
  }

  rows(transferable: TransferablePacked, rows: number, responses: number): void {
    const packed = unpack(transferable);
    const seen = { rows: 0, responses: 0 };
    const batchOf = (servedAt: number): Batch => {
      const date = logDate(servedAt);
      let batch = this.staged.get(date);
      if (batch === undefined) this.staged.set(date, (batch = new Batch(date)));
      return batch;
    };
    const target: LineTarget = {
      batch: batchOf,
      written: (servedAt, n) => {
        const batch = batchOf(servedAt);
        batch.rows += n;
        batch.responses++;
        seen.rows += n;
        seen.responses++;
      },
      failed: (n) => {
        this.unloggable = { responses: this.unloggable.responses + 1, rows: this.unloggable.rows + n };
        seen.rows += n;
        seen.responses++;
      },
    };
    try {
      renderPacked(packed, (id) => this.shape(id), target);
    } catch {
      // The packed values cannot be followed (a plan never declared: a bug); the rest of them is counted unloggable.
      this.unloggable = { responses: this.unloggable.responses + responses - seen.responses, rows: this.unloggable.rows + rows - seen.rows };
    }
  }

  private shape(id: number): PlanShape {
    const shape = this.shapes.get(id);
    if (shape === undefined) throw new Error(`serving log: plan ${id} was never declared`);
    return shape;
  }

  async flush(): Promise<FlushReport> {
    const batches: Retry[] = [...this.retry, ...[...this.staged.values()].map((b) => ({ date: b.date, chunks: b.lines.chunks(), features: b.features, rows: b.rows, responses: b.responses, attempts: 0 }))];
    this.retry = [];
    this.staged = new Map();
    const report = { files: 0, rows: 0, responses: 0, failures: 0, writeFailed: { responses: 0, rows: 0 }, unloggable: this.unloggable };
    this.unloggable = { responses: 0, rows: 0 };
    for (const batch of batches) {
      if (batch.responses === 0) continue;
      try {
        await this.sink.write(batch.date, batch.chunks, batch.features);
        report.files++;
        report.rows += batch.rows;
        report.responses += batch.responses;
      } catch {
        report.failures++;
        if (++batch.attempts < this.maxWriteAttempts) this.retry.push(batch);
        else report.writeFailed = { responses: report.writeFailed.responses + batch.responses, rows: report.writeFailed.rows + batch.rows };
      }
    }
    return report;
  }

  async close(): Promise<void> {
    await this.sink.close();
  }
}
