import { setTimeout as sleep } from "node:timers/promises";

/**
 * A token bucket: at most `perSecond` units per second on average, bursts up to one second's
 * worth. `take(n)` waits until n units are available (n above the burst is taken in parts).
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
      const now = performance.now();
      this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) / 1000) * this.perSecond);
      this.last = now;
      const part = Math.min(left, this.perSecond);
      if (this.tokens >= part) {
        this.tokens -= part;
        left -= part;
      } else await sleep(Math.ceil(((part - this.tokens) / this.perSecond) * 1000));
    }
  }
}
