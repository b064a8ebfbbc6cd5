/**
 * The share of events that were "bad" over a sliding window (one-second buckets), e.g. the
 * degraded-response rate over the last minute.
 */
export class RateWindow {
  private readonly buckets: { second: number; total: number; bad: number }[] = [];

  constructor(
    private readonly windowSeconds = 60,
    private readonly now: () => number = Date.now,
  ) {}

  record(bad: boolean): void {
    const second = Math.floor(this.now() / 1000);
    let last = this.buckets.at(-1);
    if (last?.second !== second) this.buckets.push((last = { second, total: 0, bad: 0 }));
    last.total++;
    if (bad) last.bad++;
    while (this.buckets.length > 0 && this.buckets[0]!.second <= second - this.windowSeconds) this.buckets.shift();
  }

  rate(): number {
    const since = Math.floor(this.now() / 1000) - this.windowSeconds;
    let total = 0;
    let bad = 0;
    for (const b of this.buckets) {
      if (b.second <= since) continue;
      total += b.total;
      bad += b.bad;
    }
    return total === 0 ? 0 : bad / total;
  }
}
