import { monitorEventLoopDelay } from "node:perf_hooks";
import { LATENCY_BUCKETS, MetricsRegistry, type Counter, type Gauge, type Histogram } from "../monitoring/metrics.js";
import { RateWindow } from "../monitoring/rate-window.js";

/** Every metric the online tier reports at /metrics, created once per server (or CLI process). */
export class OnlineMetrics {
  readonly registry = new MetricsRegistry();
  readonly requestDuration: Histogram = this.registry.histogram("strata_request_duration_seconds", "Feature server request latency", LATENCY_BUCKETS);
  readonly cacheRequests: Counter = this.registry.counter("strata_cache_requests_total", "Keys looked up per cache layer, by result (hit, miss)");
  readonly durableReads: Counter = this.registry.counter("strata_durable_reads_total", "Keys read from the durable online store, by reason (miss, refresh) and result (found, absent)");
  readonly durableReadQueries: Counter = this.registry.counter("strata_durable_read_queries_total", "Batched read queries sent to the durable online store");
  readonly responses: Counter = this.registry.counter("strata_online_responses_total", "Online feature responses, by degraded (true, false)");
  readonly degradedResponses: Counter = this.registry.counter("strata_degraded_responses_total", "Responses answered (in part) from the default snapshot, by reason");
  readonly degradedRate: Gauge = this.registry.gauge("strata_degraded_rate", "Share of degraded responses over the last server.degradedWindowSeconds");
  readonly degradedAlarm: Gauge = this.registry.gauge("strata_degraded_alarm", "1 when the degraded rate is above server.degradedAlarmRate");
  readonly circuitState: Gauge = this.registry.gauge("strata_cache_circuit_state", "Cache circuit breaker: 0 closed, 1 half-open, 2 open");
  readonly earlyRefreshes: Counter = this.registry.counter("strata_cache_early_refreshes_total", "XFetch early refreshes started");
  readonly populateLag: Histogram = this.registry.histogram("strata_populate_lag_seconds", "Consistency window: durable commit to visible in cache", LATENCY_BUCKETS);
  readonly populateFailures: Counter = this.registry.counter("strata_populate_failures_total", "Cache populate batches that failed (before retries)");
  readonly populateDropped: Counter = this.registry.counter("strata_populate_dropped_total", "Cache populates given up, by reason");
  readonly writes: Counter = this.registry.counter("strata_online_writes_total", "Rows written to the durable online store, by result (applied, stale)");
  readonly freshness: Histogram = this.registry.histogram("strata_stream_freshness_seconds", "Streaming: event time to visible in the durable online store", [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10, 30, 60]);
  readonly streamEvents: Counter = this.registry.counter("strata_stream_events_total", "Streaming: events applied to aggregation state, by view");
  readonly deadLetters: Counter = this.registry.counter("strata_stream_dead_letters_total", "Streaming: events refused (late, malformed), by view and reason");
  readonly erasedEvents: Counter = this.registry.counter("strata_stream_erased_events_total", "Streaming: events of erased subjects from at or before their erasure, dropped (a replay), by view");
  readonly consumerLag: Gauge = this.registry.gauge("strata_stream_consumer_lag", "Streaming: messages in the stream not yet delivered to the consumer, by view");
  readonly loopDelay: Gauge = this.registry.gauge("strata_event_loop_delay_seconds", "Event loop delay since the last scrape, by quantile (p50, p99, max)");
  private readonly loopMonitor = monitorEventLoopDelay({ resolution: 1 });
  private readonly degradedWindow: RateWindow;

  constructor(
    private readonly alarmRate = 0.01,
    windowSeconds = 10,
  ) {
    this.degradedWindow = new RateWindow(windowSeconds * 1000);
    this.loopMonitor.enable();
  }

  private readonly fresh = this.responses.bind({ degraded: "false" });
  private readonly defaulted = this.responses.bind({ degraded: "true" });

  /** Counters of cache hits and misses for one layer, bound once. */
  cacheCounters(layer: string): { hit: { inc(by?: number): void }; miss: { inc(by?: number): void } } {
    return { hit: this.cacheRequests.bind({ layer, result: "hit" }), miss: this.cacheRequests.bind({ layer, result: "miss" }) };
  }

  recordResponse(degraded: boolean, reason?: string): void {
    (degraded ? this.defaulted : this.fresh).inc();
    if (degraded) this.degradedResponses.inc({ reason: reason ?? "unknown" });
    this.degradedWindow.record(degraded);
  }

  /** Brings the sliding-window gauges up to date (called when /metrics is scraped). */
  refreshGauges(circuit: "closed" | "half-open" | "open"): void {
    const rate = this.degradedWindow.rate();
    this.degradedRate.set(rate);
    this.degradedAlarm.set(rate > this.alarmRate ? 1 : 0);
    this.circuitState.set(circuit === "closed" ? 0 : circuit === "half-open" ? 1 : 2);
    for (const [quantile, ns] of [["p50", this.loopMonitor.percentile(50)], ["p99", this.loopMonitor.percentile(99)], ["max", this.loopMonitor.max]] as const) {
      this.loopDelay.set(ns / 1e9, { quantile });
    }
    this.loopMonitor.reset();
  }

  render(circuit: "closed" | "half-open" | "open"): string {
    this.refreshGauges(circuit);
    return this.registry.render();
  }
}
