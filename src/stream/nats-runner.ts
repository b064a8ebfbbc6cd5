import { setTimeout as sleep } from "node:timers/promises";
import { AckPolicy, connect, DeliverPolicy, type JsMsg, type NatsConnection } from "nats";
import type { ProjectConfig } from "../config/project-config.js";
import type { ViewVersionRecord } from "../registry/registry-records.js";
import type { OnlineService } from "../online/online-service.js";
import { percentile } from "../util/percentile.js";
import { eventLogUpTo } from "./event-log-label.js";
import { RateLimiter } from "./rate-limiter.js";
import { StreamProcessor } from "./stream-processor.js";

/** The `stream` section of strata.yaml (see project-config.ts for each setting). */
export type StreamSettings = ProjectConfig["stream"];

export interface StreamRunDeps {
  readonly project: string;
  readonly online: OnlineService;
  readonly appendOffline: (record: ViewVersionRecord, rows: readonly Record<string, unknown>[], label: string) => Promise<void>;
  readonly offlineSources: (record: ViewVersionRecord) => Promise<string[]>;
}

/** What a run did, per view: events applied, dead letters, freshness (event time → committed) percentiles in seconds. */
export interface StreamRunSummary {
  readonly view: string;
  readonly events: number;
  readonly deadLetters: number;
  readonly freshnessP50: number | null;
  readonly freshnessP99: number | null;
}

/** The durable JetStream consumer of one view version (NATS names allow letters, digits, _ and -). */
const consumerName = (project: string, record: ViewVersionRecord): string => `strata_${project}_${record.name}_v${record.version}`.replace(/[^A-Za-z0-9_-]/g, "_");

/**
 * Consumes each aggregation view's JetStream subject with a durable consumer and explicit acks:
 * pull a batch, load the touched keys' states, apply, and every flush interval (or event count)
 * commit state + checkpoint, then ack. Runs until `signal` aborts, then flushes and returns.
 */
export async function runNatsStreams(deps: StreamRunDeps, views: readonly ViewVersionRecord[], settings: StreamSettings, signal: AbortSignal): Promise<StreamRunSummary[]> {
  const nc = await connect({ servers: settings.nats.url, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  try {
    return await Promise.all(views.map((record) => consumeView(nc, deps, record, settings, signal)));
  } finally {
    await nc.drain().catch(() => nc.close());
  }
}

async function consumeView(nc: NatsConnection, deps: StreamRunDeps, record: ViewVersionRecord, settings: StreamSettings, signal: AbortSignal): Promise<StreamRunSummary> {
  const nats = record.spec.aggregation!.nats!;
  const durable = consumerName(deps.project, record);
  const { online } = deps;
  const metrics = online.metrics;
  const lagSample = new Reservoir(100_000);
  let deadLetters = 0;
  const processor = new StreamProcessor({
    target: await online.target(record.name),
    consumer: durable,
    durable: online.durable,
    writer: online.writer,
    limiter: new RateLimiter(settings.maxWritesPerSecond),
    appendOffline: (rows, label) => deps.appendOffline(record, rows, label),
    offlineUpTo: eventLogUpTo(await deps.offlineSources(record), durable),
    offlineFlushEvents: settings.offlineFlushEvents,
    offlineFlushMs: settings.offlineFlushMs,
    onVisible: (lags) => {
      for (const lag of lags) {
        metrics.freshness.observe(lag, { view: record.name });
        lagSample.add(lag);
      }
    },
    onDeadLetter: (reason) => {
      deadLetters++;
      metrics.deadLetters.inc({ view: record.name, reason });
    },
  });
  // The checkpoint in the durable store, not the consumer's ack state, says where to resume: the
  // durable consumer is (re)created at the message after it. Messages a killed run had fetched but
  // not acked would otherwise come back only after ack_wait, behind newer ones.
  const resumeAfter = await processor.start();
  const jsm = await nc.jetstreamManager();
  await jsm.consumers.delete(nats.stream, durable).catch(() => undefined);
  await jsm.consumers.add(nats.stream, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: resumeAfter + 1,
    filter_subject: nats.subject,
    max_ack_pending: -1,
    ack_wait: 60_000_000_000,
  });
  const consumer = await nc.jetstream().consumers.get(nats.stream, durable);
  // Messages arrive continuously (a pull consumer that keeps up to fetchBatch outstanding) into a
  // bounded queue; the loop below takes what is there, so a quiet stream is committed at the
  // flush interval rather than when a fetch expires.
  const queue: JsMsg[] = [];
  const messages = await consumer.consume({ max_messages: settings.fetchBatch });
  const draining = (async () => {
    for await (const m of messages) {
      queue.push(m);
      while (queue.length >= 4 * settings.fetchBatch && !signal.aborted) await sleep(5);
    }
  })();
  let unacked: JsMsg[] = [];
  let lastFlush = Date.now();
  while (!signal.aborted) {
    const batch = queue.splice(0, settings.fetchBatch);
    if (batch.length > 0) {
      const inputs = batch.map((m) => ({ seq: m.seq, arrivedMicros: Math.floor(m.info.timestampNanos / 1000), data: m.data }));
      await processor.applyBatch(inputs);
      metrics.streamEvents.inc({ view: record.name }, batch.length);
      unacked.push(...batch);
      metrics.consumerLag.set(batch.at(-1)!.info.pending, { view: record.name });
    } else await sleep(Math.max(1, Math.min(20, settings.flushIntervalMs / 5)));
    // Behind (more than a batch still in the stream or the queue): commit by count only, so each
    // key's state is written once for many of its events; caught up: by interval too, which bounds freshness.
    const behind = queue.length + (batch.at(-1)?.info.pending ?? 0) > settings.fetchBatch;
    if (unacked.length > 0 && (processor.pendingEvents >= settings.flushEvents || (!behind && Date.now() - lastFlush >= settings.flushIntervalMs))) {
      await processor.flush();
      unacked = ackUpTo(unacked, processor.durableUpTo);
      lastFlush = Date.now();
    }
  }
  messages.stop();
  await draining.catch(() => undefined);
  // Messages delivered but not taken are not applied: not acknowledged either, so they are not lost.
  await processor.flush(true);
  ackUpTo(unacked, processor.durableUpTo);
  return { view: record.name, events: processor.processed, deadLetters, freshnessP50: lagSample.quantile(0.5), freshnessP99: lagSample.quantile(0.99) };
}

/** A uniform sample of at most `size` values (reservoir sampling), for percentiles of an unbounded series. */
class Reservoir {
  private readonly values: number[] = [];
  private seen = 0;

  constructor(private readonly size: number) {}

  add(value: number): void {
    this.seen++;
    if (this.values.length < this.size) this.values.push(value);
    else {
      const i = Math.floor(Math.random() * this.seen);
      if (i < this.size) this.values[i] = value;
    }
  }

  quantile(q: number): number | null {
    return this.values.length === 0 ? null : percentile(this.values, q * 100);
  }
}

/** Acknowledges the messages the state and the event log both hold; returns the rest. */
function ackUpTo(messages: readonly JsMsg[], seq: number): JsMsg[] {
  const rest: JsMsg[] = [];
  for (const m of messages) {
    if (m.seq <= seq) m.ack();
    else rest.push(m);
  }
  return rest;
}

