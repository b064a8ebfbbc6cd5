import type { Counter, Gauge, MetricsRegistry } from "../monitoring/metrics.js";

/** The serving log's figures at /metrics, on the server's registry. */
export class ServingLogMetrics {
  readonly rows: Counter;
  readonly files: Counter;
  readonly dropped: Counter;
  readonly flushFailures: Counter;
  readonly pendingRows: Gauge;

  constructor(registry: MetricsRegistry) {
    this.rows = registry.counter("strata_serving_log_rows_total", "Rows (response × entity row) written to the serving log");
    this.files = registry.counter("strata_serving_log_files_total", "Files written to the serving log");
    this.dropped = registry.counter("strata_serving_log_dropped_total", "Sampled responses not logged, by reason (buffer_full, write_failed, unloggable)");
    this.flushFailures = registry.counter("strata_serving_log_flush_failures_total", "Serving log file writes that failed (their rows are retried on the next flush)");
    this.pendingRows = registry.gauge("strata_serving_log_pending_rows", "Rows buffered, being written or kept for a retry, as of the last flush");
  }
}
