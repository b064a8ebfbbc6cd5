/**
 * The q-quantile of a histogram from its cumulative buckets (`[upper bound, count ≤ bound]`,
 * ascending, the last bound Infinity), interpolated linearly inside the bucket it falls in, as
 * Prometheus' histogram_quantile does (the +Inf bucket answers its lower bound). Null when empty.
 *
 * @example
 * bucketQuantile([[0.1, 50], [1, 90], [Infinity, 100]], 0.5); // 0.1
 */
export function bucketQuantile(cumulative: readonly (readonly [number, number])[], q: number): number | null {
  const total = cumulative.at(-1)?.[1] ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [bound, count] of cumulative) {
    if (count >= rank) return bound === Infinity ? lower : lower + (bound - lower) * ((rank - below) / (count - below || 1));
    lower = bound;
    below = count;
  }
  return lower;
}
