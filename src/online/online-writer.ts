import type { FeatureViewSpec } from "../definitions/specs.js";
import { InvalidRequestError } from "../errors.js";
import type { CacheKeys } from "./cache/cache-keys.js";
import type { EntryLifetime } from "./cache/entry-lifetime.js";
import { cachesView, type FeatureCache } from "./cache/feature-cache.js";
import { coerceValue, parseTimestampMicros } from "./coerce-value.js";
import { entityKey } from "./entity-key.js";
import type { OnlineMetrics } from "./online-metrics.js";
import type { OnlineStore, OnlineWrite, StateWrite, StoredRecord, StreamCheckpoint, ViewRef } from "./online-store.js";
import type { PopulateQueue } from "./read/populate-queue.js";
import { encodeValues, typedFields, type TypedField } from "./value-codec.js";

/** Rows per durable write batch (one transaction / statement each). */
export const WRITE_BATCH_ROWS = 1000;

export interface WriteTarget {
  readonly ref: ViewRef;
  readonly spec: FeatureViewSpec;
}

export interface WriteResult {
  readonly applied: number;
  /** Rows older than what the store already held (by event, then created time): not written. */
  readonly stale: number;
}

/**
 * The online write path: validate, commit to the durable store (the system of record), and
 * only then queue cache populates, which never replace a newer entry. A write is acknowledged
 * once committed; the cache catches up within the consistency window (a metric).
 */
export class OnlineWriter {
  constructor(
    private readonly deps: { durable: OnlineStore; cache: FeatureCache; keys: CacheKeys; populate: PopulateQueue; lifetime: EntryLifetime; metrics: OnlineMetrics },
  ) {}

  /** Rows carry the join keys, `event_timestamp`, optionally `created_timestamp`, and features (missing ones stored as null). */
  async write(target: WriteTarget, rows: readonly Readonly<Record<string, unknown>>[], timestampField = "event_timestamp"): Promise<WriteResult> {
    const fields = typedFields(target.spec.features);
    return this.writeEncoded(target, rows.map((row, i) => this.encode(target.spec, fields, row, i + 1, timestampField)));
  }

  /** Writes rows already encoded (materialization builds them straight from the offline store). */
  async writeEncoded(target: WriteTarget, encoded: readonly OnlineWrite[]): Promise<WriteResult> {
    let applied = 0;
    for (let i = 0; i < encoded.length; i += WRITE_BATCH_ROWS) {
      // Backpressure: a bulk load waits for the cache to catch up rather than outrun the queue.
      if (this.deps.populate.size >= this.deps.populate.capacity / 2) await this.deps.populate.drain();
      const records = await this.deps.durable.writeBatch(target.ref, encoded.slice(i, i + WRITE_BATCH_ROWS));
      applied += records.length;
      this.populateCommitted(target, records);
    }
    this.deps.metrics.writes.inc({ result: "applied" }, applied);
    this.deps.metrics.writes.inc({ result: "stale" }, encoded.length - applied);
    return { applied, stale: encoded.length - applied };
  }

  /** Whether the view's committed records go to the cache (for a stream commit: whole states, see commitCheckpoint). */
  cachesCommits(target: WriteTarget): boolean {
    return cachesView(this.deps.cache, target.spec.aggregation !== undefined);
  }

  /**
   * A stream processor's commit (state rows + checkpoint, one transaction; see OnlineStore), then
   * cache populates. A row stored as a head apart from its sealed tiles goes to the cache as the
   * whole state, from `whole` by key (needed when `cachesCommits`).
   */
  async commitCheckpoint(target: WriteTarget, rows: readonly StateWrite[], checkpoint: StreamCheckpoint, whole?: ReadonlyMap<string, string>): Promise<number> {
    const records = await this.deps.durable.commitCheckpoint(target.ref, rows, checkpoint);
    this.populateCommitted(target, whole === undefined || whole.size === 0 ? records : records.map((r) => ({ ...r, values: whole.get(r.entityKey) ?? r.values })));
    this.deps.metrics.writes.inc({ result: "applied" }, records.length);
    return records.length;
  }

  /**
   * Erases entities of a view version: tombstones in the durable store, then the same tombstones
   * written to the cache (awaited, not queued: the erasure reports them). Their write times are
   * above any entry's, so a populate still in flight cannot bring a value back. Returns how many
   * keys held values in the durable store.
   */
  async erase(ref: ViewRef, entityKeys: readonly string[], boundaryMicros: number): Promise<number> {
    const { tombstones, removed } = await this.deps.durable.erase(ref, entityKeys, boundaryMicros);
    const written = new Set(tombstones.map((t) => t.entityKey));
    // Keys whose tombstone was already there with a later boundary: re-send that one.
    const kept = entityKeys.filter((k) => !written.has(k));
    const existing = kept.length === 0 ? [] : (await this.deps.durable.readMany(ref, kept)).filter((r) => r !== undefined);
    await this.deps.cache.populate([...tombstones, ...existing].map((r) => this.deps.lifetime.populate(this.deps.keys.entry(ref, r.entityKey), r)));
    return removed;
  }

  /** Queues cache populates for records just committed (their commit time starts the consistency window). */
  private populateCommitted(target: WriteTarget, records: readonly StoredRecord[]): void {
    if (!this.cachesCommits(target)) return;
    const committedAt = Date.now();
    this.deps.populate.enqueue(records.map((record) => this.deps.lifetime.populate(this.deps.keys.entry(target.ref, record.entityKey), record, committedAt)));
  }

  private encode(spec: FeatureViewSpec, fields: readonly TypedField[], row: Readonly<Record<string, unknown>>, n: number, timestampField: string): OnlineWrite {
    const where = (column: string): string => `row ${n}, column "${column}"`;
    let key: string;
    try {
      key = entityKey(spec.joinKeys, row);
    } catch (error) {
      throw new InvalidRequestError(`row ${n}: ${(error as Error).message}`);
    }
    if (row[timestampField] === undefined || row[timestampField] === null) throw new InvalidRequestError(`${where(timestampField)}: the event timestamp is missing`);
    const eventTs = parseTimestampMicros(row[timestampField], where(timestampField));
    const created = row.created_timestamp ?? row.created;
    const createdTs = created === undefined || created === null ? Date.now() * 1000 : parseTimestampMicros(created, where("created_timestamp"));
    const values = encodeValues(fields, (f) => coerceValue(f.type, row[f.name], where(f.name)));
    return { entityKey: key, values, eventTs, createdTs };
  }
}
