/** An entry to store only if no entry with a later write time is there (compare-and-set). */
export interface PopulateEntry {
  readonly key: string;
  readonly writeTs: number;
  readonly payload: string;
  readonly ttlMs: number;
}

/**
 * The cache in front of the durable online store. Implementations: in-process memory (the
 * embedded default), Redis, Redis Cluster; all pass test/online/cache-conformance.ts.
 * Values are encoded entries (cache-entry.ts); the cache itself only compares write times.
 */
export interface FeatureCache {
  /** "memory" or "redis": the layer name in metrics. */
  readonly layer: string;
  /**
   * Whether other processes' writes reach it (Redis). An in-process cache only sees this
   * process's writes, so state another process keeps changing (aggregation views, written by a
   * stream processor) is not read from it nor put into it.
   */
  readonly sharedAcrossProcesses: boolean;
  /** One result per key, in order; null where absent or expired. */
  getMany(keys: readonly string[]): Promise<(string | null)[]>;
  /** Stores each entry unless the cached one has a later write time; returns how many were stored. */
  populate(entries: readonly PopulateEntry[]): Promise<number>;
  delete(keys: readonly string[]): Promise<void>;
  /** A short lock (e.g. for one early refresh across servers); true if this caller got it. */
  tryLock(key: string, ttlMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Whether a view's records are read from and put into `cache` (see FeatureCache.sharedAcrossProcesses). */
export function cachesView(cache: FeatureCache, isAggregation: boolean): boolean {
  return !isAggregation || cache.sharedAcrossProcesses;
}
