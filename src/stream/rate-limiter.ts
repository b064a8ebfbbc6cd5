import { setTimeout as sleep } from "node:timers/promises";

/**
 * A token bucket: at most `perSecond` units per second on average, bursts up to one second's
 * worth. `take(n)` waits until n units are available (n above the burst is taken in parts);
 * `tryTake()` takes one unit now or says how long until one is there.
 */
export class RateLimiter {
  private tokens: number;
  private last = performance.now();

  constructor(private readonly perSecond: number) {
    this.tokens = perSecond;
  }

  async take(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      this.refill();
      const part = Math.min(left, this.perSecond);
      if (this.tokens >= part) {
        this.tokens -= part;
        left -= part;
      } else await sleep(Math.ceil(((part - this.tokens) / this.perSecond) * 1000));
    }
  }

  /** Takes one unit: 0 when taken, else the seconds until one is available (nothing taken). */
  tryTake(): number {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return (1 - this.tokens) / this.perSecond;
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
  }
}
