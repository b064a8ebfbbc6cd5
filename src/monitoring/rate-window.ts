/**
 * Counts events and how many were "bad" over a sliding window of fixed-width buckets, e.g. the
 * degraded-response rate over the last minute (1 s buckets) or a circuit breaker's recent
 * failures (100 ms buckets).
 */
export class RateWindow {
  private readonly buckets: { at: number; total: number; bad: number }[] = [];

  constructor(
    private readonly windowMs = 60_000,
    private readonly bucketMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  record(bad: boolean): void {
    const at = this.bucketOf(this.now());
    let last = this.buckets.at(-1);
    if (last?.at !== at) this.buckets.push((last = { at, total: 0, bad: 0 }));
    last.total++;
    if (bad) last.bad++;
    while (this.buckets.length > 0 && this.buckets[0]!.at <= at - this.windowMs) this.buckets.shift();
  }

  /** Events and bad events in the window ending now. */
  totals(): { total: number; bad: number } {
    const since = this.bucketOf(this.now()) - this.windowMs;
    let total = 0;
    let bad = 0;
    for (const b of this.buckets) {
      if (b.at <= since) continue;
      total += b.total;
      bad += b.bad;
    }
    return { total, bad };
  }

  rate(): number {
    const { total, bad } = this.totals();
    return total === 0 ? 0 : bad / total;
  }

  clear(): void {
    this.buckets.length = 0;
  }

  private bucketOf(ms: number): number {
    return ms - (ms % this.bucketMs);
  }
}
