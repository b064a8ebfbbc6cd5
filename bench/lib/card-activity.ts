import { aggregationView, entity, Float64, Int64, type AggregationInput, type batchSource, type streamSource } from "../../src/index.js";

/** The streaming benchmarks' aggregation view: 3 windows × 4 functions over card transactions. */
export const windows = ["1h", "1d", "7d"] as const;
export const functions = ["count", "sum", "max", "mean"] as const;
export const aggregations: AggregationInput[] = windows.flatMap((window) => functions.map((fn) => ({ column: fn === "count" ? "*" : "amount", function: fn, window })));
const card = entity({ name: "card", joinKeys: ["card_id"], valueType: Int64 });

export const cardActivity = (source: ReturnType<typeof streamSource> | ReturnType<typeof batchSource>) =>
  aggregationView({ name: "card_activity", entities: [card], schema: { amount: Float64 }, source, aggregations, allowedLateness: "5m" });

/**
 * Event i's key among `keys`: a hash of i (murmur3's finalizer), so keys recur in no fixed
 * order. A key of i * constant mod keys visited every key in the same order each `keys` events,
 * the order the first commit inserted them in, so every later commit wrote the store's pages in sequence.
 */
export function cardOf(i: number, keys: number): number {
  const h = Math.imul(i ^ (i >>> 16), 0x85ebca6b);
  const g = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((g ^ (g >>> 16)) >>> 0) % keys + 1;
}

/** Event i of a generated stream as its message text (key and amount from i), at `tsMs`. */
export const cardEvent = (i: number, keys: number, tsMs: number): string => `{"card_id":${cardOf(i, keys)},"ts":${tsMs},"amount":${((i * 31) % 100000) / 100}}`;

/** Where a bulk stream's event times start (µs): 3 days ago, so its ~55 h of events (5M) lie in the past. */
export const bulkBaseMicros = (): number => Date.now() * 1000 - 3 * 86_400_000_000;

/** Event i's time (ms) in a bulk stream from `baseMicros`: 25 events per simulated second (5M span ~55 h), up to ±1 s out of order. */
export const bulkEventMs = (i: number, baseMicros: number): number => Math.floor((baseMicros + i * 40_000 + ((i * 7919) % 2_000_000) - 1_000_000) / 1000);
