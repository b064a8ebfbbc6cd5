import { hopGroups, type HopGroup } from "../aggregation/tile-partials.js";
import { KeyState } from "../aggregation/tile-state.js";
import { readSplit, sealedAt } from "../aggregation/key-state-split.js";
import type { OnlineStore, StateWrite, DeadLetter } from "../online/online-store.js";
import type { OnlineWriter, WriteTarget } from "../online/online-writer.js";
import { eventDecoder, type DecodedEvent, type EventDecoder } from "./event-decoder.js";
import { eventLogFormat, type EventLogFormat } from "./event-log-line.js";
import { eventLogLabel } from "./event-log-label.js";
import type { ReplayBoundaries } from "../erasure/replay-boundaries.js";
import type { ErasureRecord } from "../erasure/erasure-record.js";
import { isTombstone } from "../online/tombstone.js";
import type { RateLimiter } from "./rate-limiter.js";
import { LineBatch } from "../offline/line-batch.js";
import { PendingEvents } from "./pending-events.js";

/** The watermark before any event (µs; as checkpoints store it). */
const NO_WATERMARK = -1;

/**
 * A commit's parts written at once: the store writes one while the next is folded and encoded.
 * One at a time, each part waited for the event loop to come round between batches, and a
 * commit of 100k keys took 5 s of which the store was busy for one.
 */
const PARTS_IN_FLIGHT = 2;

/** One message from a stream: its sequence, arrival time (µs; becomes created_timestamp) and payload (UTF-8 decoded). */
export interface StreamMessage {
  readonly seq: number;
  readonly arrivedMicros: number;
  readonly data: string;
}

/**
 * A key's state in the processor. Stored as one online record: the tiles not sealed at `split`
 * as its values (all of them while it is -Infinity), the newest event time as its
 * event_timestamp, and the last stream sequence applied to it as its created_timestamp, which
 * rises with every change, so the store's compare-and-set accepts each newer state and refuses
 * an older one; the sealed tiles are stored with it when they change. Events accepted for the
 * key wait in a PendingEvents until a commit folds them into `state`, right before writing it
 * (in the same turn of the event loop: what is written holds every event `seq` counts).
 */
interface Live {
  state: KeyState;
  seq: number;
  /** The newest event time folded into `state`. */
  maxTs: number;
  split: number;
  /** Tiles in the sealed part last stored. */
  sealedTiles: number;
  /** Closed tiles the head has carried, summed over its writes since the last seal (see `stateRow`). */
  headDebt: number;
  /** The key's first and last event waiting in `pendingIn` (-1: none; the first one lists the key in `dirty`). */
  first: number;
  last: number;
  pendingIn: PendingEvents;
}

export interface ProcessorDeps {
  readonly target: WriteTarget;
  readonly consumer: string;
  readonly durable: OnlineStore;
  readonly writer: OnlineWriter;
  readonly limiter: RateLimiter;
  /** Appends accepted events (JSON lines, see event-log-line.ts) to the view's offline event log, labelled with their sequence range. */
  readonly appendOffline: (lines: LineBatch, label: string) => Promise<void>;
  /** The last sequence already in the offline event log (from its commits' labels). */
  readonly offlineUpTo: number;
  /** Append to the event log once this many events wait, or this long after the last append. */
  readonly offlineFlushEvents: number;
  readonly offlineFlushMs: number;
  /** Event time → visible online, per event, in seconds. */
  readonly onVisible?: (lagSeconds: Float64Array) => void;
  readonly onDeadLetter?: (kind: "late" | "malformed") => void;
  /** Erasures (the ledger): events behind a replay boundary are dropped (onErased counts them) and never logged. */
  readonly boundaries?: ReplayBoundaries;
  readonly onErased?: () => void;
}

/**
 * The streaming side of an aggregation view: accepts messages per key and, on `flush`, folds
 * them into the keys' tile states and commits those with the stream position and dead letters (one
 * transaction) and, in larger batches, appends the accepted events to the offline event log. Exactly once
 * across crashes: each key's state stores the last sequence applied to it, so a replay after a
 * restart skips what a state already holds; the event log skips what its commits hold, and a
 * restart replays from the older of the two positions, where messages the checkpoint holds only
 * go to the log unless the dead letters name them; the watermark is restored with the checkpoint,
 * so late/not-late decisions repeat. Acknowledge messages up to `durableUpTo`.
 */
export class StreamProcessor {
  private readonly groups: readonly HopGroup[];
  private readonly decode: EventDecoder;
  private readonly logFormat: EventLogFormat;
  private readonly live = new Map<string, Live>();
  private readonly lateness: number;
  private maxTs = -Infinity;
  private checkpointSeq = 0;
  private lastSeq = 0;
  private deadLetters: DeadLetter[] = [];
  private offlineLines = new LineBatch();
  private offlineFrom = 0;
  private offlineUpTo: number;
  /** Events accepted since the last commit started, for keys without events waiting in an earlier one. */
  private pending: PendingEvents;
  private readonly columns: readonly string[];
  /** Keys with events in `pending` (listed by their first: no second hash lookup per event). */
  private dirty: string[] = [];
  /** After a restart, messages up to the last checkpoint are in the state already; only the event log may lack them. */
  private replayUntil = 0;
  private refused = new Set<number>();
  private lastOfflineAppend = Date.now();
  private appending: Promise<void> | undefined;
  private appendFailure: Error | undefined;
  /** Keys of erased subjects whose state must be replaced by a tombstone at the next flush, with the boundary. */
  private readonly forgotten = new Map<string, number>();
  processed = 0;

  constructor(private readonly deps: ProcessorDeps) {
    const aggregation = deps.target.spec.aggregation!;
    this.groups = hopGroups(aggregation.aggregates);
    this.decode = eventDecoder(deps.target.spec);
    this.logFormat = eventLogFormat(deps.target.spec);
    this.lateness = aggregation.allowedLatenessSeconds * 1e6;
    this.offlineUpTo = deps.offlineUpTo;
    this.columns = aggregation.events.map((c) => c.name);
    this.pending = new PendingEvents(this.columns);
  }

  /**
   * Resumes: the state from the last checkpoint, the event log from its last append (which may
   * be behind: it is appended in larger, less frequent batches). Returns the sequence to continue
   * after; messages up to the checkpoint then only go to the event log, unless they were refused.
   */
  async start(): Promise<number> {
    const saved = await this.deps.durable.loadCheckpoint(this.deps.consumer);
    this.checkpointSeq = this.replayUntil = saved?.seq ?? 0;
    this.maxTs = saved === undefined || saved.watermark === NO_WATERMARK ? -Infinity : saved.watermark + this.lateness;
    this.lastSeq = Math.min(this.checkpointSeq, this.offlineUpTo);
    if (this.lastSeq < this.replayUntil) this.refused = await this.deps.durable.deadLetterSeqs(this.deps.consumer, this.lastSeq + 1, this.replayUntil);
    return this.lastSeq;
  }

  /** The newest event time seen minus the allowed lateness: events before it are late. */
  private get watermark(): number {
    return this.maxTs === -Infinity ? NO_WATERMARK : this.maxTs - this.lateness;
  }

  /** The last sequence in both the state checkpoint and the event log: messages up to it may be acknowledged. */
  get durableUpTo(): number {
    return Math.min(this.checkpointSeq, this.offlineUpTo);
  }

  /** Applies a batch of messages in order, loading the stored states of the keys it touches first. */
  async applyBatch(messages: readonly StreamMessage[]): Promise<void> {
    const decoded = messages.map((m): DecodedEvent | Error => {
      try {
        return this.decode(m.data);
      } catch (error) {
        return error as Error;
      }
    });
    // Keys whose stored state this batch will change (replayed messages only go to the event log);
    // the states found are kept for applying, one lookup per event instead of two.
    const unseen = new Set<string>();
    const found = decoded.map((d, i): Live | undefined => {
      if (d instanceof Error || messages[i]!.seq <= this.replayUntil) return undefined;
      const live = this.live.get(d.entityKey);
      if (live === undefined) unseen.add(d.entityKey);
      return live;
    });
    const missing = [...unseen];
    if (missing.length > 0) {
      const stored = await this.deps.durable.readStates(this.deps.target.ref, missing);
      missing.forEach((key, i) => {
        const record = stored[i];
        if (record === undefined || isTombstone(record) || this.deps.boundaries?.dropsState(key, record.eventTs) === true) return;
        const state = KeyState.decode(this.groups, record.values, record.sealed);
        const split = readSplit(record.values).split ?? -Infinity;
        this.live.set(key, { state, seq: record.createdTs, maxTs: record.eventTs, split, sealedTiles: state.countTiles((g, start) => sealedAt(g, start, split)), headDebt: 0, first: -1, last: -1, pendingIn: this.pending });
      });
    }
    // Loading yields, and a commit or an erasure may have dropped a state found before: look again.
    const current = missing.length === 0;
    messages.forEach((m, i) => this.apply(m, decoded[i]!, current ? found[i] : undefined));
    // Between commits too: appends in step with the stream keep `durableUpTo`, and so the messages NATS holds unacknowledged, low.
    this.appendIfDue(false);
  }

  /** `found`: the key's state as looked up in this turn of the event loop, if it has one. */
  private apply(m: StreamMessage, event: DecodedEvent | Error, found: Live | undefined): void {
    if (m.seq <= this.lastSeq) return; // a redelivery of what this run or the checkpoint already holds
    this.lastSeq = m.seq;
    if (!(event instanceof Error) && this.deps.boundaries?.drops(event.entityKey, () => this.logFormat.keys(event), event.ts) === true) {
      this.deps.onErased?.();
      return;
    }
    if (m.seq <= this.replayUntil) {
      if (!(event instanceof Error) && !this.refused.has(m.seq)) this.logEvent(m, event);
      return;
    }
    if (event instanceof Error) {
      this.deadLetter(m, "malformed", event.message);
      return;
    }
    if (event.ts < this.watermark) {
      this.deadLetter(m, "late", `event time ${new Date(event.ts / 1000).toISOString()} is before the watermark ${new Date(this.watermark / 1000).toISOString()}`);
      return;
    }
    this.maxTs = Math.max(this.maxTs, event.ts);
    this.logEvent(m, event);
    let live = found ?? this.live.get(event.entityKey);
    if (live === undefined) this.live.set(event.entityKey, (live = { state: KeyState.empty(this.groups), seq: 0, maxTs: -Infinity, split: -Infinity, sealedTiles: 0, headDebt: 0, first: -1, last: -1, pendingIn: this.pending }));
    if (m.seq <= live.seq) return; // the stored state already holds it (a replay after a crash)
    live.seq = m.seq;
    if (live.first < 0) {
      live.pendingIn = this.pending; // none waiting (last is -1 too): a list in the current buffer
      this.dirty.push(event.entityKey);
    }
    live.last = live.pendingIn.push(event.ts, m.arrivedMicros, event.values, live.last);
    if (live.first < 0) live.first = live.last;
    this.processed++;
  }

  private logEvent(m: StreamMessage, event: DecodedEvent): void {
    if (m.seq <= this.offlineUpTo) return;
    if (this.offlineLines.length === 0) this.offlineFrom = m.seq;
    this.logFormat.append(this.offlineLines, event, m.arrivedMicros);
  }

  private deadLetter(m: StreamMessage, kind: "late" | "malformed", detail: string): void {
    this.deadLetters.push({ seq: m.seq, reason: `${kind}: ${detail}`, payload: m.data });
    this.deps.onDeadLetter?.(kind);
  }

  /** Events and dead letters waiting for a commit that has not started (what `flushEvents` counts). */
  get pendingEvents(): number {
    return this.pending.length + this.deadLetters.length;
  }

  /**
   * Commits the changed states with the checkpoint and dead letters (rate-limited, in parts; one
   * transaction each) and, when enough events wait and no append is under way, starts appending
   * them to the event log (`final`: appends all and waits for it; otherwise `durableUpTo` rises
   * when it ends). A flush takes what it commits when it starts, so the caller may go on applying
   * messages while it runs (one flush at a time): those belong to the next flush. A key's state
   * may hold events beyond the checkpoint; its own sequence says which, so a replay skips them.
   */
  async flush(final = false): Promise<void> {
    this.throwIfAppendFailed();
    if (this.forgotten.size > 0) await this.eraseForgotten();
    // The event log's append runs alongside the state commit (on DuckDB's threads, the commit on
    // SQLite's): started after it, it held the acknowledgements back by its own seconds as well.
    this.appendIfDue(final);
    if (this.lastSeq > this.checkpointSeq) await this.commitState();
    if (final) {
      await this.appending;
      this.appendIfDue(true); // what arrived during the commit, or waited for an append under way
      await this.appending;
      this.throwIfAppendFailed();
    }
  }

  /** Starts appending the waiting events to the event log when none is under way and enough wait (or any, when `all`). */
  private appendIfDue(all: boolean): void {
    // After a failed append, nothing waiting does not mean all is logged: its events are not.
    if (this.appending !== undefined || this.appendFailure !== undefined) return;
    const due = this.offlineLines.length >= this.deps.offlineFlushEvents || Date.now() - this.lastOfflineAppend >= this.deps.offlineFlushMs;
    if (this.offlineLines.length === 0) this.offlineUpTo = Math.max(this.offlineUpTo, this.lastSeq);
    else if (all || due) this.appending = this.appendOffline();
  }

  private throwIfAppendFailed(): void {
    if (this.appendFailure !== undefined) throw this.appendFailure;
  }

  /**
   * Appends the waiting events to the event log, alongside later state commits (an append takes
   * seconds, which would hold every commit behind it); one at a time, so the log's sequence
   * ranges stay in order. A failure fails the next flush.
   */
  private appendOffline(): Promise<void> {
    const lines = this.offlineLines;
    const label = eventLogLabel(this.deps.consumer, this.offlineFrom, this.lastSeq);
    const upTo = this.lastSeq;
    this.offlineLines = new LineBatch();
    this.lastOfflineAppend = Date.now();
    return this.deps.appendOffline(lines, label).then(
      () => {
        this.offlineUpTo = upTo;
        this.appending = undefined;
      },
      (error: unknown) => {
        this.appendFailure = error instanceof Error ? error : new Error(String(error));
        this.appending = undefined;
      },
    );
  }

  /**
   * An erasure of these subjects was recorded: their in-memory state is dropped now, and at the
   * next flush (after any commit in flight, so it cannot be overtaken) their stored state becomes
   * a tombstone again, in case a commit raced the erase. Later events start a fresh state.
   */
  forget(erasures: readonly ErasureRecord[]): void {
    for (const erasure of erasures) {
      for (const key of this.deps.boundaries?.keysOf(erasure, this.live.keys()) ?? []) {
        this.live.get(key)?.state.release();
        this.live.delete(key); // listed in `dirty` still: the commit skips keys without state
        this.forgotten.set(key, Math.max(this.forgotten.get(key) ?? -Infinity, erasure.boundaryMicros));
      }
    }
  }

  private async eraseForgotten(): Promise<void> {
    const byBoundary = new Map<number, string[]>();
    for (const [key, boundary] of this.forgotten) {
      const keys = byBoundary.get(boundary);
      if (keys === undefined) byBoundary.set(boundary, [key]);
      else keys.push(key);
    }
    this.forgotten.clear();
    for (const [boundary, keys] of byBoundary) await this.deps.writer.erase(this.deps.target.ref, keys, boundary);
  }

  private async commitState(): Promise<void> {
    const upTo = this.lastSeq;
    const watermark = this.watermark;
    // In key order, each part's upserts touch neighbouring pages of the store's key index and,
    // once the first commits inserted them in this order, of its rows: in arrival order, every
    // part rewrote pages all over both (SQLite spent twice the CPU per row on random keys).
    const keys = this.dirty.sort();
    const deadLetters = this.deadLetters;
    this.dirty = [];
    this.deadLetters = [];
    // Events for a key this commit has yet to write join the key's waiting ones, and are written
    // with them; those for other keys wait for the next commit. So `written` ends up holding
    // every event this commit writes (an earlier commit has folded all of its own).
    const written = this.pending;
    this.pending = new PendingEvents(this.columns);
    const part = 2000;
    const cached = this.deps.writer.cachesCommits(this.deps.target);
    // Parts before the last are written while the next one is folded (see PARTS_IN_FLIGHT); the last,
    // which moves the position, only once all of them have committed.
    const inFlight: Promise<number>[] = [];
    for (let i = 0; i < keys.length || i === 0; i += part) {
      const whole = new Map<string, string>();
      const chunk = keys.slice(i, i + part).flatMap((key): StateWrite[] => {
        const l = this.live.get(key);
        // Forgotten (erased) since it changed, or listed twice (forgotten, then changed again).
        if (l === undefined || l.first < 0) return [];
        // Folded, compacted and encoded in one go: one pass over the key's memory.
        fold(l, watermark);
        const row = stateRow(key, l, watermark);
        if (cached && l.split !== -Infinity) whole.set(key, l.state.encode()); // a head alone is not a state
        if (l.state.empty) {
          l.state.release();
          this.live.delete(key);
        }
        return [row];
      });
      await this.deps.limiter.take(chunk.length);
      const last = i + part >= keys.length;
      // Only the last part advances the position; a crash between parts replays into states that skip what they hold.
      const checkpoint = { consumer: this.deps.consumer, seq: last ? upTo : this.checkpointSeq, watermark, deadLetters: last ? deadLetters : [] };
      if (last) {
        await Promise.all(inFlight);
        await this.deps.writer.commitCheckpoint(this.deps.target, chunk, checkpoint, whole);
      } else {
        const write = this.deps.writer.commitCheckpoint(this.deps.target, chunk, checkpoint, whole);
        write.catch(() => undefined); // awaited below or before the last part, which a failure then stops
        inFlight.push(write);
        if (inFlight.length >= PARTS_IN_FLIGHT) await inFlight.shift();
      }
    }
    const now = Date.now() * 1000;
    const lags = written.times();
    for (let i = 0; i < lags.length; i++) lags[i] = (now - lags[i]!) / 1e6;
    this.deps.onVisible?.(lags);
    this.checkpointSeq = upTo;
  }
}

/**
 * Folds a key's pending events into its state in arrival order, then compacts it (only what reads
 * at or after the watermark need). The commit's watermark decides which tiles keep raw events:
 * an accepted event's tile is open at every watermark up to the one at its arrival, and a tile
 * this one closes drops its raw events in this very compaction, so the state is the one that
 * folding each event at its arrival would have left.
 */
function fold(l: Live, watermark: number): void {
  const state = l.state;
  // The newest event time here rather than on arrival: a double field is a box of its own, one more cache miss per event.
  let maxTs = l.maxTs;
  l.pendingIn.each(l.first, (event) => {
    state.add(event, watermark);
    if (event.ts > maxTs) maxTs = event.ts;
  });
  l.maxTs = maxTs;
  l.first = l.last = -1;
  state.compact(watermark);
}

/**
 * The row that stores a key's state, just folded: its tiles closed since the last seal sealed
 * when due, then its head. Until they are sealed, the head carries them at every write of the
 * key; a seal rewrites the sealed part once. It is due once the closed tiles the head has
 * carried since the last seal, summed over its writes, reach the sealed part's size (rent or
 * buy: rent until the rent paid equals the price). A key whose tiles close every few commits
 * (a stream replayed from far behind) seals every few commits; one whose tiles close slowly (a
 * live stream, an hourly tile over hundreds of commits) carries a closed tile for as many
 * writes as it has sealed tiles, where a fixed share (a quarter) carried a quarter of a week's
 * tiles for hours.
 */
function stateRow(entityKey: string, l: Live, watermark: number): StateWrite {
  let sealed: string | undefined;
  if (l.state.empty) l.split = -Infinity; // stored whole (and empty): a sealed part left behind is no longer read
  else if (watermark > l.split) {
    const split = l.split;
    const fresh = l.state.countTiles((g, start) => sealedAt(g, start, watermark) && !sealedAt(g, start, split));
    l.headDebt += fresh;
    if (fresh > 0 && l.headDebt >= l.sealedTiles) {
      l.headDebt = 0;
      sealed = l.state.encodeSealed(watermark);
      l.split = watermark;
      l.sealedTiles = l.state.countTiles((g, start) => sealedAt(g, start, watermark));
    }
  }
  const row = { entityKey, values: l.state.encodeHead(l.split), eventTs: l.maxTs, createdTs: l.seq };
  return sealed === undefined ? row : { ...row, sealed };
}
