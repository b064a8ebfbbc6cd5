import { Worker } from "node:worker_threads";
import type { DuckDbOptions } from "../offline/duckdb.js";
import type { PlanSpec } from "./log-rows.js";
import type { FlushReport, LogWriter } from "./log-writer.js";
import type { TransferablePacked } from "./packed-transfer.js";

export interface WorkerSettings {
  readonly offlineRoot: string;
  readonly duck: DuckDbOptions;
  readonly maxWriteAttempts: number;
  /** The writer thread's nice value (Linux), above the server's 0. */
  readonly niceness: number;
}

export type ToWorker =
  | { readonly type: "plan"; readonly id: number; readonly spec: PlanSpec }
  | { readonly type: "rows"; readonly packed: TransferablePacked; readonly rows: number; readonly responses: number }
  | { readonly type: "flush"; readonly seq: number }
  | { readonly type: "close" };

export type FromWorker = { readonly type: "flushed"; readonly seq: number; readonly report: FlushReport } | { readonly type: "closed" };

const NOTHING = { responses: 0, rows: 0 };
const EMPTY: FlushReport = { files: 0, rows: 0, responses: 0, failures: 0, writeFailed: NOTHING, unloggable: NOTHING };

/**
 * Renders and writes the serving log on a worker thread, so the server's own thread only packs
 * responses (measured: rendering them there cost a third of the throughput). If the worker
 * dies, what it held is reported lost at the next flush, and a new one starts.
 */
export class WorkerLogWriter implements LogWriter {
  private worker: Worker | undefined;
  private readonly plans = new Map<number, PlanSpec>();
  private readonly waiting = new Map<number, (report: FlushReport) => void>();
  private seq = 0;
  /** Sent and not yet reported written or given up; lost if the worker dies. */
  private unconfirmed = { ...NOTHING };
  private lost = { ...NOTHING };
  private crashes = 0;

  constructor(private readonly settings: WorkerSettings) {}

  private started(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(new URL("./serving-log-worker.js", import.meta.url), { workerData: this.settings });
    worker.unref(); // an idle writer does not keep the process alive; close() flushes first
    worker.on("message", (message: FromWorker) => {
      if (message.type !== "flushed") return;
      const { report } = message;
      this.unconfirmed = {
        responses: this.unconfirmed.responses - report.responses - report.writeFailed.responses - report.unloggable.responses,
        rows: this.unconfirmed.rows - report.rows - report.writeFailed.rows - report.unloggable.rows,
      };
      this.waiting.get(message.seq)?.(report);
      this.waiting.delete(message.seq);
    });
    worker.on("error", () => undefined); // reported through "exit"
    worker.on("exit", () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.crashes++;
      this.lost = { responses: this.lost.responses + this.unconfirmed.responses, rows: this.lost.rows + this.unconfirmed.rows };
      this.unconfirmed = { ...NOTHING };
      for (const resolve of this.waiting.values()) resolve(EMPTY);
      this.waiting.clear();
    });
    for (const [id, spec] of this.plans) worker.postMessage({ type: "plan", id, spec } satisfies ToWorker);
    this.worker = worker;
    return worker;
  }

  plan(id: number, spec: PlanSpec): void {
    this.plans.set(id, spec);
    if (this.worker !== undefined) this.worker.postMessage({ type: "plan", id, spec } satisfies ToWorker);
  }

  rows(packed: TransferablePacked, rows: number, responses: number): void {
    this.unconfirmed = { responses: this.unconfirmed.responses + responses, rows: this.unconfirmed.rows + rows };
    this.started().postMessage({ type: "rows", packed, rows, responses } satisfies ToWorker, [packed.kinds.buffer, packed.numbers.buffer]);
  }

  async flush(): Promise<FlushReport> {
    const seq = ++this.seq;
    const worker = this.worker;
    // Waiting for the reply keeps the process alive (a last flush at shutdown); between flushes it does not.
    worker?.ref();
    const report =
      worker === undefined
        ? EMPTY
        : await new Promise<FlushReport>((resolve) => {
            this.waiting.set(seq, resolve);
            worker.postMessage({ type: "flush", seq } satisfies ToWorker);
          }).finally(() => worker.unref());
    // What a dead worker held counts as failed writes, given up.
    const { lost, crashes } = this;
    this.lost = { ...NOTHING };
    this.crashes = 0;
    return { ...report, failures: report.failures + crashes, writeFailed: { responses: report.writeFailed.responses + lost.responses, rows: report.writeFailed.rows + lost.rows } };
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    this.worker = undefined;
    worker.ref();
    await new Promise<void>((resolve) => {
      worker.on("message", (message: FromWorker) => message.type === "closed" && resolve());
      worker.once("exit", () => resolve());
      worker.postMessage({ type: "close" } satisfies ToWorker);
    });
    await worker.terminate();
  }
}
