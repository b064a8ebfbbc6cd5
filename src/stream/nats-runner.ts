import { connect, type NatsConnection } from "nats";
import type { ProjectConfig } from "../config/project-config.js";
import type { ViewVersionRecord } from "../registry/registry-records.js";
import type { OnlineService } from "../online/online-service.js";
import { eventLogUpTo } from "./event-log-label.js";
import type { LineBatch } from "../offline/line-batch.js";
import type { ErasureRecord } from "../erasure/erasure-record.js";
import { ReplayBoundaries } from "../erasure/replay-boundaries.js";
import { JetStreamFeed } from "./jetstream-feed.js";
import { RateLimiter } from "./rate-limiter.js";
import { StreamProcessor } from "./stream-processor.js";
import { consumerName } from "./consumer-name.js";

/** The `stream` section of strata.yaml (see project-config.ts for each setting). */
export type StreamSettings = ProjectConfig["stream"];

export interface StreamRunDeps {
  readonly project: string;
  readonly online: OnlineService;
  readonly appendOffline: (record: ViewVersionRecord, lines: LineBatch, label: string) => Promise<void>;
  readonly offlineSources: (record: ViewVersionRecord) => Promise<string[]>;
  /** The erasure ledger (replay boundaries). */
  readonly erasures: () => Promise<ErasureRecord[]>;
}

/** What a run did, per view: events applied, dead letters, freshness (event time → committed) percentiles in seconds, from the freshness histogram (interpolated within its buckets). */
export interface StreamRunSummary {
  readonly view: string;
  readonly events: number;
  readonly deadLetters: number;
  readonly freshnessP50: number | null;
  readonly freshnessP99: number | null;
}

/** Batches a feed requests ahead of what was applied (its window). */
export const WINDOW_BATCHES = 4;

/** A backlog of more than this many batches means the processor is behind. */
const BACKLOG_BATCHES = 20;

/**
 * Consumes each aggregation view's JetStream subject with a durable consumer (see JetStreamFeed):
 * take what arrived, load the touched keys' states, apply, and every flush interval (or event
 * count) commit state + checkpoint, then acknowledge. Runs until `signal` aborts, then flushes and returns.
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
  const freshness = metrics.freshness.bind({ view: record.name });
  let deadLetters = 0;
  const boundaries = new ReplayBoundaries(record.name, record.spec);
  boundaries.update(await deps.erasures()); // before the first event: a replay from the start already drops them
  const processor = new StreamProcessor({
    boundaries,
    target: await online.target(record.name),
    consumer: durable,
    durable: online.durable,
    writer: online.writer,
    limiter: new RateLimiter(settings.maxWritesPerSecond),
    appendOffline: (lines, label) => deps.appendOffline(record, lines, label),
    offlineUpTo: eventLogUpTo(await deps.offlineSources(record), durable),
    offlineFlushEvents: settings.offlineFlushEvents,
    offlineFlushMs: settings.offlineFlushMs,
    onVisible: (lags) => freshness.observeAll(lags),
    onErased: () => metrics.erasedEvents.inc({ view: record.name }),
    onDeadLetter: (reason) => {
      deadLetters++;
      metrics.deadLetters.inc({ view: record.name, reason });
    },
  });
  const feed = new JetStreamFeed(await nc.jetstreamManager(), { url: settings.nats.url, stream: nats.stream, durable, filterSubject: nats.subject, maxAckPending: settings.maxAckPending, window: WINDOW_BATCHES * settings.batchSize });
  const poll = setInterval(() => {
    deps.erasures().then((ledger) => processor.forget(boundaries.update(ledger)), () => undefined); // unreachable registry: next time
  }, settings.erasurePollMs);
  try {
    await feed.open(await processor.start());
    await consumeUntil(signal, processor, feed, settings, (taken) => {
      metrics.streamEvents.inc({ view: record.name }, taken);
      metrics.consumerLag.set(feed.pending, { view: record.name });
    });
  } finally {
    clearInterval(poll);
    feed.close();
  }
  return { view: record.name, events: processor.processed, deadLetters, freshnessP50: metrics.freshness.quantile(0.5, { view: record.name }), freshnessP99: metrics.freshness.quantile(0.99, { view: record.name }) };
}

/** Applies what the feed delivers and commits (see the comments inside) until `signal` aborts, then commits what was applied. */
async function consumeUntil(signal: AbortSignal, processor: StreamProcessor, feed: JetStreamFeed, settings: StreamSettings, onTaken: (count: number) => void): Promise<void> {
  let lastFlush = Date.now();
  // One flush at a time, run alongside applying (the durable store's commit may be on another
  // thread or server); a failure stops the run, with nothing acknowledged past what it held.
  let flushing: Promise<void> | undefined;
  let failure: Error | undefined;
  const commit = (final: boolean): Promise<void> => {
    lastFlush = Date.now();
    const run = processor.flush(final);
    flushing = run.then(
      () => void (flushing = undefined),
      (error: unknown) => void (failure ??= error instanceof Error ? error : new Error(String(error))),
    );
    return run;
  };
  while (!signal.aborted) {
    if (failure !== undefined) throw failure;
    const taken = feed.take();
    for (let i = 0; i < taken.length; i += settings.batchSize) {
      await processor.applyBatch(taken.slice(i, i + settings.batchSize));
      await new Promise(setImmediate); // let the socket be read between batches
    }
    if (taken.length > 0) onTaken(taken.length);
    else await feed.arrival(Math.max(1, Math.min(20, settings.flushIntervalMs / 5)));
    // The one place that acknowledges during the run: whatever a commit, or an event-log append
    // ending after its flush, made durable since the last turn; otherwise NATS tracks (and stops
    // sending at maxAckPending) what is safe already.
    feed.ackUpTo(processor.durableUpTo);
    if (feed.broken) {
      // Deliveries may be missing: commit what was applied and resume right after it.
      await flushing;
      await commit(true);
      await feed.open(processor.durableUpTo);
      continue;
    }
    // Caught up: commit every flush interval, which bounds freshness; behind (a backlog of many
    // batches, not what arrives during one commit): every checkpoint interval, so each key's state
    // is written once for many of its events. Half the ack window unacknowledged forces the event
    // log out too, so NATS never stops sending for want of acks.
    const behind = feed.queued + feed.pending > BACKLOG_BATCHES * settings.batchSize;
    const ackBound = feed.unackedCount >= settings.maxAckPending / 2;
    const interval = behind ? settings.checkpointIntervalMs : settings.flushIntervalMs;
    if (flushing === undefined && feed.unackedCount > 0 && (ackBound || processor.pendingEvents >= settings.flushEvents || Date.now() - lastFlush >= interval)) void commit(ackBound).catch(() => undefined);
  }
  // Messages delivered but not taken are not applied: not acknowledged either, so they are not lost.
  await flushing;
  if (failure !== undefined) throw failure;
  await commit(true);
  feed.ackUpTo(processor.durableUpTo);
}
