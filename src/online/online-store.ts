/** A feature view version, as the online tier addresses it. */
export interface ViewRef {
  readonly view: string;
  readonly version: number;
}

/** One row to write: the entity's canonical key, its encoded feature values (JSON), and its times (µs). */
export interface OnlineWrite {
  readonly entityKey: string;
  readonly values: string;
  readonly eventTs: number;
  readonly createdTs: number;
}

/** What the durable store holds for one (view version, entity): the winning row and when it was written (µs). */
export interface StoredRecord extends OnlineWrite {
  readonly writeTs: number;
}

/**
 * A stream processor's state row. For an aggregation view `values` holds the head of the key's
 * state and `sealed`, when given, its sealed tiles (see aggregation/key-state-split.ts): stored
 * apart, so a commit that leaves them as they are does not rewrite them.
 */
export interface StateWrite extends OnlineWrite {
  readonly sealed?: string;
}

/** A stored state: the record and the sealed tiles last written with it, if any. */
export interface StoredState extends StoredRecord {
  readonly sealed?: string;
}

/**
 * The durable online store, the system of record behind the cache. Implementations: SQLite
 * (embedded default) and PostgreSQL; both pass test/online/online-store-conformance.ts.
 *
 * Writes are compare-and-set: a row replaces the stored one only if it is newer by
 * (event_timestamp, created_timestamp), so an older row never overwrites a newer one and
 * replays are harmless. Each applied write gets a write time greater than the one it replaced.
 */
export interface OnlineStore {
  /** Returns the rows that were applied (with their write times); older or equal rows are skipped. */
  writeBatch(view: ViewRef, rows: readonly OnlineWrite[]): Promise<StoredRecord[]>;
  /** One result per key, in order; undefined where nothing is stored. */
  readMany(view: ViewRef, entityKeys: readonly string[]): Promise<(StoredRecord | undefined)[]>;
  /** As readMany, with each record's sealed tiles, read in the same statement: a head and its sealed tiles come from one commit. */
  readStates(view: ViewRef, entityKeys: readonly string[]): Promise<(StoredState | undefined)[]>;
  /** Removes the records (and sealed tiles) of these keys; returns how many records there were. */
  delete(view: ViewRef, entityKeys: readonly string[]): Promise<number>;
  /**
   * Replaces each key's record with a tombstone (tombstone.ts) whatever it holds, and removes its
   * sealed tiles, in one transaction; returns the tombstones (with write times, for the cache) and
   * how many keys held values. Idempotent: an existing tombstone with a later boundary is kept.
   */
  erase(view: ViewRef, entityKeys: readonly string[], boundaryMicros: number): Promise<{ tombstones: StoredRecord[]; removed: number }>;
  /** Up to `limit` stored entity keys after `after`, in key order (an erasure's scan of a view with composite keys). */
  listKeys(view: ViewRef, after: string | null, limit: number): Promise<string[]>;
  /** Removes every record and sealed tile of a view version (or, without one, of the project). */
  teardown(view?: ViewRef): Promise<void>;
  readonly materializations: MaterializationLog;
  /**
   * A stream processor's commit: state rows (compare-and-set, as writeBatch; a row's sealed tiles
   * are written when the row applies), its checkpoint and the dead letters since the last one, in
   * one transaction, so state and stream position never disagree after a crash.
   */
  commitCheckpoint(view: ViewRef, rows: readonly StateWrite[], checkpoint: StreamCheckpoint): Promise<StoredRecord[]>;
  loadCheckpoint(consumer: string): Promise<SavedCheckpoint | undefined>;
  /** The sequences in [from, to] a consumer refused (recorded as dead letters). */
  deadLetterSeqs(consumer: string, from: number, to: number): Promise<Set<number>>;
  /** Up to `limit` of a consumer's dead letters with sequences above `afterSeq`, in order (an erasure's scan). */
  deadLetters(consumer: string, afterSeq: number, limit: number): Promise<StoredDeadLetter[]>;
  /** Replaces the payloads of these dead letters, keeping the rows (a replay still skips them); returns how many changed. */
  redactDeadLetters(consumer: string, seqs: readonly number[], payload: string): Promise<number>;
  close(): Promise<void>;
}

/** An event refused by a stream processor (later than the allowed lateness, or malformed): kept, never silently dropped. */
export interface DeadLetter {
  readonly seq: number;
  readonly reason: string;
  readonly payload: string;
}

export interface StoredDeadLetter extends DeadLetter {
  /** When its commit recorded it (RFC 3339). */
  readonly recordedAt: string;
}

export interface StreamCheckpoint {
  readonly consumer: string;
  /** Every message up to this stream sequence has its effect in this commit. */
  readonly seq: number;
  /** µs; -1 before any event. */
  readonly watermark: number;
  readonly deadLetters: readonly DeadLetter[];
}

export interface SavedCheckpoint {
  readonly seq: number;
  readonly watermark: number;
  readonly deadLetters: number;
}

/** A materialization run of one view version over [start, end) (µs), resumable after `resumeAfter` (an entity key). */
export interface MaterializationJob {
  readonly view: string;
  readonly version: number;
  readonly start: number;
  readonly end: number;
  readonly status: "running" | "done";
  readonly resumeAfter: string | null;
  readonly rows: number;
  readonly updatedAt: string;
}

export interface MaterializationLog {
  find(view: ViewRef, start: number, end: number): Promise<MaterializationJob | undefined>;
  save(job: MaterializationJob): Promise<void>;
  /** The end of the latest completed run: where materialize-incremental starts. */
  lastEnd(view: ViewRef): Promise<number | undefined>;
}

/** Keeps the newest row per entity key (by event, then created time), as one write batch must hold each key once. */
export function newestPerKey<T extends OnlineWrite>(rows: readonly T[]): T[] {
  const best = new Map<string, T>();
  for (const row of rows) {
    const current = best.get(row.entityKey);
    if (current === undefined || row.eventTs > current.eventTs || (row.eventTs === current.eventTs && row.createdTs > current.createdTs)) best.set(row.entityKey, row);
  }
  return [...best.values()];
}
