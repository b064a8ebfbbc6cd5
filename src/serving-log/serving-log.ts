import type { ProjectConfig } from "../config/project-config.js";
import type { MetricsRegistry } from "../monitoring/metrics.js";
import type { OnlineReadResult } from "../online/read/online-reader.js";
import type { ReadPlan } from "../online/read/read-plan.js";
import { packResponse, planSpec } from "./log-rows.js";
import type { LogWriter } from "./log-writer.js";
import { PackedBuilder } from "./packed-transfer.js";
import { ServingLogMetrics } from "./serving-log-metrics.js";
import { WorkerLogWriter } from "./worker-log-writer.js";

export type ServingLogSettings = ProjectConfig["servingLog"];

/** Whether the settings log any response at all. */
export const logsAnything = (settings: ServingLogSettings): boolean => settings.featureRefs > 0 || Object.values(settings.services).some((rate) => rate > 0);

/** Packed values handed to the writer at once: a few turns' worth, so a message's fixed cost is shared. */
const HAND_OVER_VALUES = 16_384;
/** The writer thread's nice value: serving first, the log when there is CPU to spare. */
const WRITER_NICENESS = 10;
/** Plans the writer knows at most; then ids start again (plans change with each registry revision). */
const MAX_PLANS = 10_000;

/**
 * One sampled response, as the route handed it over: references only. The read path builds
 * fresh arrays for every response and nothing changes them afterwards, so holding them until
 * the end of the event-loop turn is safe and costs no copy on the request's path.
 */
interface Recorded {
  readonly requestId: string;
  readonly servedAt: number;
  readonly service: string | undefined;
  readonly plan: ReadPlan;
  readonly entities: Readonly<Record<string, readonly unknown[]>>;
  readonly result: OnlineReadResult;
}

/**
 * Records sampled online responses into the offline store (`servingLog` in strata.yaml).
 *
 * The request's path only samples and pushes references into a bounded buffer (`record`: O(1),
 * no serialization, never awaits). Once per event-loop turn, after the responses are written,
 * the references are packed into typed arrays for the writer (a worker thread renders and
 * writes them, see WorkerLogWriter); holding the objects longer made the garbage collector
 * promote them, which cost more than packing. A timer (every `flushIntervalMs`) has the writer write
 * each date's rows as one Parquet file. When `maxBufferedRows` rows are unwritten, new responses
 * are dropped and counted, never waited for. A failed write is retried at the next flush, up to
 * `maxWriteAttempts`.
 */
export class ServingLog {
  private recorded: Recorded[] = [];
  /** Packed, not yet handed to the writer. */
  private readonly packed = new PackedBuilder();
  private packedRows = 0;
  private packedResponses = 0;
  /** Rows recorded and neither written nor given up: what maxBufferedRows bounds. */
  private pending = 0;
  private drainScheduled = false;
  private flushing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly rates: ReadonlyMap<string, number>;
  private readonly bufferFull: { inc(by?: number): void };
  private planIds = new WeakMap<ReadPlan, number>();
  private plans = 0;
  private closed = false;

  constructor(
    private readonly settings: ServingLogSettings,
    private readonly writer: LogWriter,
    readonly metrics: ServingLogMetrics,
  ) {
    this.rates = new Map(Object.entries(settings.services));
    this.bufferFull = metrics.dropped.bind({ reason: "buffer_full" });
    this.timer = setInterval(() => void this.flush(), settings.flushIntervalMs).unref();
  }

  /** The project's serving log, or undefined when its settings log nothing (then serving pays nothing). */
  static fromConfig(config: ProjectConfig, registry: MetricsRegistry, writer?: LogWriter): ServingLog | undefined {
    const settings = config.servingLog;
    if (!logsAnything(settings)) return undefined;
    const duck = config.duckdb.memoryLimit === undefined ? {} : { memoryLimit: config.duckdb.memoryLimit };
    return new ServingLog(settings, writer ?? new WorkerLogWriter({ offlineRoot: config.offline.path, duck, maxWriteAttempts: settings.maxWriteAttempts, niceness: WRITER_NICENESS }), new ServingLogMetrics(registry));
  }

  /** The hot path: samples the response at its service's rate and keeps references to it. */
  record(requestId: string, servedAt: number, service: string | undefined, plan: ReadPlan, entities: Readonly<Record<string, readonly unknown[]>>, result: OnlineReadResult): void {
    const rate = service === undefined ? this.settings.featureRefs : (this.rates.get(service) ?? 0);
    if (rate <= 0 || (rate < 1 && Math.random() >= rate) || result.rows === 0 || this.closed) return;
    if (this.pending + result.rows > this.settings.maxBufferedRows) {
      this.bufferFull.inc();
      return;
    }
    this.pending += result.rows;
    this.recorded.push({ requestId, servedAt, service, plan, entities, result });
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(this.drain);
    }
  }

  /** Writes everything recorded so far (and what failed before); one flush at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.writeRecorded().finally(() => {
      this.flushing = undefined;
      this.metrics.pendingRows.set(this.pending);
    });
    return this.flushing;
  }

  /** Stops the timer and writes everything still held, retrying failures up to their limit. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.flushing;
    for (let attempt = 0; attempt <= this.settings.maxWriteAttempts; attempt++) {
      await this.flush();
      if (this.pending <= 0) break;
    }
    await this.writer.close();
  }

  /** Packs what was recorded since the last turn; hands the packed values to the writer once there are enough of them (or on a flush). */
  private readonly drain = (): void => {
    this.drainScheduled = false;
    const recorded = this.recorded;
    this.recorded = [];
    for (const r of recorded) {
      // The plan id first: a new one may hand the packed values over, and the mark must be in the values that follow.
      const planId = this.planId(r.plan);
      const mark = this.packed.mark();
      try {
        packResponse(this.packed, planId, r.plan, r.requestId, r.servedAt, r.service, r.entities, r.result);
      } catch {
        // A response the log cannot read (a bug): skipped, and counted; what it packed is taken back.
        this.packed.rollback(mark);
        this.metrics.dropped.inc({ reason: "unloggable" });
        this.pending -= r.result.rows;
        continue;
      }
      this.packedRows += r.result.rows;
      this.packedResponses++;
    }
    if (this.packed.size >= HAND_OVER_VALUES) this.handOver();
  };

  private handOver(): void {
    if (this.packedResponses === 0) return;
    this.writer.rows(this.packed.take(), this.packedRows, this.packedResponses);
    this.packedRows = 0;
    this.packedResponses = 0;
  }

  private planId(plan: ReadPlan): number {
    let id = this.planIds.get(plan);
    if (id === undefined) {
      if (this.plans === MAX_PLANS) {
        // The writer renders what it receives at once: hand over what uses the old ids before reusing them.
        this.handOver();
        this.planIds = new WeakMap();
        this.plans = 0;
      }
      this.planIds.set(plan, (id = ++this.plans));
      this.writer.plan(id, planSpec(plan));
    }
    return id;
  }

  private async writeRecorded(): Promise<void> {
    this.drain();
    this.handOver();
    this.metrics.pendingRows.set(this.pending);
    const report = await this.writer.flush();
    this.metrics.files.inc({}, report.files);
    this.metrics.rows.inc({}, report.rows);
    this.metrics.flushFailures.inc({}, report.failures);
    if (report.writeFailed.responses > 0) this.metrics.dropped.inc({ reason: "write_failed" }, report.writeFailed.responses);
    if (report.unloggable.responses > 0) this.metrics.dropped.inc({ reason: "unloggable" }, report.unloggable.responses);
    this.pending -= report.rows + report.writeFailed.rows + report.unloggable.rows;
  }
}
