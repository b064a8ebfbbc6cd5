import { bucketQuantile } from "../../src/monitoring/bucket-quantile.js";

/** A Prometheus histogram's cumulative bucket counts, by upper bound (seconds; Infinity for +Inf). */
export type Buckets = Map<number, number>;

/** Scrapes one histogram (summed over its label sets) from a /metrics endpoint. */
export async function scrapeHistogram(url: string, name: string): Promise<Buckets> {
  const text = await (await fetch(url)).text();
  const buckets: Buckets = new Map();
  const line = new RegExp(`^${name}_bucket\\{(?:.*,)?le="([^"]+)"\\} (\\S+)$`, "gm");
  for (const m of text.matchAll(line)) {
    const le = m[1] === "+Inf" ? Infinity : Number(m[1]);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]));
  }
  return buckets;
}

/** What was observed between two scrapes. */
export function bucketDelta(before: Buckets, after: Buckets): Buckets {
  return new Map([...after].map(([le, count]) => [le, count - (before.get(le) ?? 0)]));
}

/** The q-quantile (see bucketQuantile); NaN when empty. */
export function histogramQuantile(buckets: Buckets, q: number): number {
  return bucketQuantile([...buckets].sort((a, b) => a[0] - b[0]), q) ?? NaN;
}

/** The share of observations at most `seconds` (a bucket bound). */
export function shareAtMost(buckets: Buckets, seconds: number): number {
  const total = Math.max(...buckets.values());
  return total === 0 ? NaN : (buckets.get(seconds) ?? NaN) / total;
}
