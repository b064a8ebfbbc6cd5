import type { CacheConfig } from "../../config/project-config.js";
import { InvalidRequestError } from "../../errors.js";
import { decodeEntry } from "../cache/cache-entry.js";
import type { CacheKeys } from "../cache/cache-keys.js";
import type { EntryLifetime } from "../cache/entry-lifetime.js";
import { cachesView, type FeatureCache } from "../cache/feature-cache.js";
import { entityKey } from "../entity-key.js";
import type { OnlineMetrics } from "../online-metrics.js";
import type { OnlineStore, StoredState } from "../online-store.js";
import { decodeValue, type EncodedValue } from "../value-codec.js";
import type { CircuitBreaker } from "./circuit-breaker.js";
import type { DefaultSnapshot } from "./default-snapshot.js";
import { wholeState } from "../../aggregation/whole-state.js";
import { KeyState } from "../../aggregation/tile-state.js";
import { oldestServedMicros, type FeatureStatus } from "./feature-status.js";
import type { PopulateQueue } from "./populate-queue.js";
import type { PlannedView, ReadPlan } from "./read-plan.js";
import { visible } from "../tombstone.js";
import { SingleFlight } from "./single-flight.js";
import { TimeoutError, withTimeout } from "./with-timeout.js";
import { shouldRefreshEarly } from "./xfetch.js";

/** One response column: a feature's values for every entity row, with statuses and event times (µs). */
export interface FeatureColumn {
  readonly values: unknown[];
  readonly statuses: FeatureStatus[];
  readonly eventTimestamps: (number | null)[];
}

export interface OnlineReadResult {
  readonly rows: number;
  /** One column per planned feature, views in plan order. */
  readonly columns: FeatureColumn[];
  readonly degraded: boolean;
  readonly degradedReason?: string;
}

/** One (view version, entity) looked up for a request. */
interface Lookup {
  readonly view: PlannedView;
  readonly entityKey: string;
  readonly cacheKey: string;
  /** For an aggregation view read from the durable store, a head with its sealed tiles (decoded together). */
  record?: StoredState | null;
  parsed?: Record<string, EncodedValue>;
  degraded?: string;
}

export interface ReaderDeps {
  readonly cache: FeatureCache;
  readonly durable: OnlineStore;
  readonly keys: CacheKeys;
  readonly settings: CacheConfig & { readonly durableReadTimeoutMs: number };
  readonly breaker: CircuitBreaker;
  readonly populate: PopulateQueue;
  readonly lifetime: EntryLifetime;
  readonly metrics: OnlineMetrics;
  snapshot: DefaultSnapshot;
}

/**
 * The online read path for N entities × M views: every key in one scatter-gather cache read
 * under a hard timeout; misses in one batched durable read per view (single-flight per key),
 * then populated in the background; hits near expiry refreshed early by one reader (XFetch).
 * When the cache times out or its circuit is open, the whole request is answered from the
 * default snapshot (DEFAULTED, degraded) rather than sent to the durable store.
 */
export class OnlineReader {
  private readonly flight = new SingleFlight<StoredState | null>();
  private readonly counters: ReturnType<OnlineMetrics["cacheCounters"]>;

  constructor(private readonly deps: ReaderDeps) {
    this.counters = deps.metrics.cacheCounters(deps.cache.layer);
  }

  async read(plan: ReadPlan, entities: Readonly<Record<string, readonly unknown[]>>, readTimeMs = Date.now()): Promise<OnlineReadResult> {
    const rows = rowCount(plan, entities);
    const lookups = new Map<string, Lookup>();
    const rowLookups = plan.views.map((view) => {
      const out: Lookup[] = [];
      const row: Record<string, unknown> = {};
      for (let i = 0; i < rows; i++) {
        for (const k of view.joinKeys) row[k.name] = entities[k.name]![i];
        const key = entityKey(view.joinKeys, row);
        const cacheKey = this.deps.keys.entry(view.ref, key);
        let lookup = lookups.get(cacheKey);
        if (lookup === undefined) lookups.set(cacheKey, (lookup = { view, entityKey: key, cacheKey }));
        out.push(lookup);
      }
      return out;
    });
    const all = [...lookups.values()];
    const cacheable = this.deps.cache.sharedAcrossProcesses ? all : all.filter((l) => this.usesCache(l.view));
    const reason = cacheable.length === 0 ? undefined : await this.fromCache(cacheable);
    // A failed cache degrades what it was asked for; views that skip it still read the durable store.
    if (reason !== undefined) for (const l of cacheable) l.degraded = reason;
    const misses = all.filter((l) => l.record === undefined && l.degraded === undefined);
    if (misses.length > 0) await this.fromDurable(misses, "miss").catch(() => misses.forEach((l) => (l.degraded = "durable store unavailable")));
    return this.assemble(plan, rowLookups, rows, readTimeMs * 1000);
  }

  private usesCache(view: PlannedView): boolean {
    return cachesView(this.deps.cache, view.tileGroups !== undefined);
  }

  /** Fills lookups from the cache; returns why the request must be degraded, if it must. */
  private async fromCache(lookups: Lookup[]): Promise<string | undefined> {
    const { cache, breaker, settings } = this.deps;
    if (!breaker.allow()) return "cache circuit open";
    let raw: (string | null)[];
    try {
      raw = await withTimeout(cache.getMany(lookups.map((l) => l.cacheKey)), settings.readTimeoutMs);
      breaker.success();
    } catch (error) {
      breaker.failure();
      return error instanceof TimeoutError ? "cache timeout" : "cache unavailable";
    }
    const now = Date.now();
    let hits = 0;
    lookups.forEach((lookup, i) => {
      const text = raw[i];
      const entry = text === null || text === undefined ? undefined : decodeEntry(text, lookup.entityKey);
      // Past its logical expiry an entry is still served (and refreshed) with XFetch; without, it has expired.
      if (entry === undefined || (!settings.xfetch.enabled && entry.expiresAt <= now)) return;
      hits++;
      lookup.record = visible(entry.record);
      if (settings.xfetch.enabled && shouldRefreshEarly(now, entry.expiresAt, entry.deltaMs, settings.xfetch.beta)) this.refreshEarly(lookup);
    });
    this.counters.hit.inc(hits);
    this.counters.miss.inc(lookups.length - hits);
    return undefined;
  }

  /** One reader refreshes an entry before it expires (lock across servers, single-flight within); the rest keep serving it. */
  private refreshEarly(lookup: Lookup): void {
    if (this.flight.get(lookup.cacheKey) !== undefined) return;
    this.deps.metrics.earlyRefreshes.inc();
    const copy: Lookup = { view: lookup.view, entityKey: lookup.entityKey, cacheKey: lookup.cacheKey };
    void (async () => {
      if (await this.deps.cache.tryLock(this.deps.keys.refreshLock(lookup.cacheKey), this.deps.settings.refreshLockMs)) await this.fromDurable([copy], "refresh");
    })().catch(() => undefined);
  }

  /** Reads lookups from the durable store (batched per view, single-flight per key) and queues cache populates. */
  private async fromDurable(lookups: Lookup[], reason: "miss" | "refresh"): Promise<void> {
    const byKey = new Map(lookups.map((l) => [l.cacheKey, l]));
    const load = (cacheKeys: readonly string[]): Promise<ReadonlyMap<string, StoredState | null>> => this.load(cacheKeys.map((k) => byKey.get(k)!), reason);
    const pending = this.deps.settings.singleFlight ? this.flight.claim([...byKey.keys()], load) : unshared([...byKey.keys()], load);
    const results = await withTimeout(Promise.all([...pending.entries()].map(async ([key, p]) => [key, await p] as const)), this.deps.settings.durableReadTimeoutMs);
    for (const [key, record] of results) byKey.get(key)!.record = record;
  }

  private async load(lookups: readonly Lookup[], reason: "miss" | "refresh"): Promise<Map<string, StoredState | null>> {
    const { durable, metrics, populate, lifetime } = this.deps;
    const started = performance.now();
    const byView = new Map<PlannedView, Lookup[]>();
    for (const l of lookups) {
      let group = byView.get(l.view);
      if (group === undefined) byView.set(l.view, (group = []));
      group.push(l);
    }
    const out = new Map<string, StoredState | null>();
    const fills: [string, StoredState | null][] = [];
    await Promise.all(
      [...byView].map(async ([view, group]) => {
        metrics.durableReadQueries.inc();
        const keys = group.map((l) => l.entityKey);
        const groups = view.tileGroups;
        const records = groups === undefined ? await durable.readMany(view.ref, keys) : await durable.readStates(view.ref, keys);
        const cached = this.usesCache(view);
        group.forEach((l, i) => {
          const record = records[i] ?? null;
          // A tombstone reads as nothing stored, but goes to the cache as itself: its write time keeps older populates out.
          out.set(l.cacheKey, visible(record));
          // The cache holds whole states: a head is joined with its sealed tiles only for it.
          if (cached) fills.push([l.cacheKey, record === null || groups === undefined ? record : wholeState(groups, record)]);
        });
      }),
    );
    lifetime.observeRecompute(performance.now() - started);
    const found = [...out.values()].filter((r) => r !== null).length;
    metrics.durableReads.inc({ reason, result: "found" }, found);
    metrics.durableReads.inc({ reason, result: "absent" }, out.size - found);
    populate.enqueue(fills.map(([key, record]) => lifetime.populate(key, record)));
    return out;
  }

  /**
   * Builds the columns. What depends only on the (view, entity) record (found, within ttl,
   * parsed values, event time) is worked out once per row; the per-feature loop then only picks
   * values.
   */
  private assemble(plan: ReadPlan, rowLookups: readonly Lookup[][], rows: number, readMicros: number): OnlineReadResult {
    const columns: FeatureColumn[] = [];
    const reasons = new Set<string>();
    plan.views.forEach((view, j) => {
      const lookups = rowLookups[j]!;
      const kinds = new Uint8Array(rows);
      const parsed = new Array<Record<string, EncodedValue> | undefined>(rows);
      const times = new Array<number | null>(rows);
      const oldest = oldestServedMicros(view.ttlSeconds, readMicros);
      let emptyWindows: Record<string, EncodedValue> | undefined;
      for (let i = 0; i < rows; i++) {
        const lookup = lookups[i]!;
        const record = lookup.record ?? null;
        if (lookup.degraded !== undefined) {
          reasons.add(lookup.degraded);
          kinds[i] = DEGRADED;
          times[i] = null;
        } else if (record === null && view.tileGroups !== undefined) {
          // An aggregation view's key with no events: its windows are empty (count 0, the rest null), as in training sets.
          kinds[i] = FOUND;
          times[i] = null;
          parsed[i] = emptyWindows ??= KeyState.empty(view.tileGroups).valuesAt(readMicros);
        } else if (record === null) {
          kinds[i] = ABSENT;
          times[i] = null;
        } else {
          times[i] = record.eventTs;
          if (record.eventTs < oldest) kinds[i] = EXPIRED;
          else {
            kinds[i] = FOUND;
            parsed[i] =
              view.tileGroups === undefined
                ? (lookup.parsed ??= JSON.parse(record.values) as Record<string, EncodedValue>)
                : KeyState.decode(view.tileGroups, record.values, record.sealed).valuesAt(readMicros);
          }
        }
      }
      for (const feature of view.features) {
        const values = new Array<unknown>(rows);
        const statuses = new Array<FeatureStatus>(rows);
        const plain = !feature.type.isArray && feature.type.scalar !== "Bytes" && feature.type.scalar !== "Int64";
        for (let i = 0; i < rows; i++) {
          const kind = kinds[i];
          if (kind === FOUND) {
            const stored = parsed[i]![feature.name] ?? null;
            if (stored === null) {
              values[i] = null;
              statuses[i] = "NULL_VALUE";
            } else {
              values[i] = plain && typeof stored !== "string" ? stored : decodeValue(feature.type, stored);
              statuses[i] = "PRESENT";
            }
          } else if (kind === DEGRADED) {
            values[i] = this.deps.snapshot.value(view.ref.view, feature.name, feature.type.name);
            statuses[i] = "DEFAULTED";
          } else {
            values[i] = null;
            statuses[i] = kind === EXPIRED ? "OUTSIDE_MAX_AGE" : "NOT_FOUND";
          }
        }
        columns.push({ values, statuses, eventTimestamps: times });
      }
    });
    const degradedReason = reasons.size === 0 ? undefined : [...reasons].join("; ");
    this.deps.metrics.recordResponse(degradedReason !== undefined, degradedReason);
    return { rows, columns, degraded: degradedReason !== undefined, ...(degradedReason === undefined ? {} : { degradedReason }) };
  }
}

const FOUND = 0;
const ABSENT = 1;
const EXPIRED = 2;
const DEGRADED = 3;

/** Without single-flight: one load for exactly these keys, shared with no other request. */
function unshared<V>(keys: readonly string[], load: (keys: readonly string[]) => Promise<ReadonlyMap<string, V>>): Map<string, Promise<V>> {
  const batch = load(keys);
  return new Map(keys.map((k) => [k, batch.then((loaded) => loaded.get(k) as V)]));
}

function rowCount(plan: ReadPlan, entities: Readonly<Record<string, readonly unknown[]>>): number {
  let rows: number | undefined;
  for (const key of plan.joinKeys) {
    const column = entities[key.name];
    if (!Array.isArray(column)) throw new InvalidRequestError(`entities lack join key "${key.name}" (a list of ${key.type} values)`);
    if (rows !== undefined && column.length !== rows) throw new InvalidRequestError(`entity columns differ in length ("${key.name}" has ${column.length} values, expected ${rows})`);
    rows = column.length;
  }
  return rows ?? 0;
}
