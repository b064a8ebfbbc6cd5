import type { StoredRecord } from "../online-store.js";
import { encodeEntry } from "./cache-entry.js";
import type { PopulateEntry } from "./feature-cache.js";

/** How much longer than its logical TTL the cache keeps an entry: the room for one early refresh. */
export const PHYSICAL_TTL_FACTOR = 2;

/**
 * Makes cache entries: a logical expiry (`ttlSeconds`, what XFetch and read-time expiry use) and
 * a physical lifetime twice as long, so that a reader arriving after the logical expiry still
 * finds the entry, serves it and refreshes it (once, under single-flight and a lock) instead of
 * every reader missing at once. Each entry carries the current estimate of what a refresh costs
 * (a moving average of durable reads), which scales XFetch's early-refresh probability.
 */
export class EntryLifetime {
  private costMs = 1;

  constructor(private readonly ttlSeconds: number) {}

  /** Feeds one measured durable read (ms) into the cost estimate. */
  observeRecompute(ms: number): void {
    this.costMs += (ms - this.costMs) * 0.2;
  }

  populate(key: string, record: StoredRecord | null, committedAt?: number): PopulateEntry & { committedAt?: number } {
    const now = Date.now();
    const writeTs = record?.writeTs ?? 0;
    const payload = encodeEntry({ record, writeTs, expiresAt: now + this.ttlSeconds * 1000, deltaMs: this.costMs });
    return { key, writeTs, payload, ttlMs: this.ttlSeconds * 1000 * PHYSICAL_TTL_FACTOR, ...(committedAt === undefined ? {} : { committedAt }) };
  }
}
