export type CircuitState = "closed" | "open" | "half-open";

export interface CircuitSettings {
  /** Share of failed or timed-out calls in the window that opens the circuit. */
  readonly failureRate: number;
  /** Calls the window must hold before the rate counts (a few failures at low traffic do not trip it). */
  readonly minCalls: number;
  readonly windowMs: number;
  /** How long it stays open before one probe call is let through. */
  readonly openMs: number;
}

/**
 * Stops calling a failing dependency. Closed: calls go through, and the circuit opens when at
 * least `failureRate` of the (at least `minCalls`) calls in the last `windowMs` failed. A rate,
 * not a count of consecutive failures: concurrent requests share one round trip to Redis, so
 * one brief stall fails many calls at once without meaning Redis is down. Open: calls are
 * refused for `openMs`. Then half-open: one probe goes through; its success closes the
 * circuit, its failure opens it again.
 */
export class CircuitBreaker {
  private readonly buckets: { at: number; calls: number; failures: number }[] = [];
  private openedAt = 0;
  private opened = false;
  private probing = false;

  constructor(
    private readonly settings: CircuitSettings,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): CircuitState {
    if (!this.opened) return "closed";
    return this.now() - this.openedAt >= this.settings.openMs ? "half-open" : "open";
  }

  /** Whether a call may go through now (in half-open, only the one probe). */
  allow(): boolean {
    const state = this.state;
    if (state === "closed") return true;
    if (state === "open" || this.probing) return false;
    this.probing = true;
    return true;
  }

  success(): void {
    if (this.opened) {
      this.opened = false;
      this.probing = false;
      this.buckets.length = 0;
      return;
    }
    this.record(false);
  }

  failure(): void {
    if (this.opened) {
      this.probing = false;
      this.openedAt = this.now();
      return;
    }
    const { calls, failures } = this.record(true);
    if (calls >= this.settings.minCalls && failures >= calls * this.settings.failureRate) {
      this.opened = true;
      this.openedAt = this.now();
    }
  }

  /** Counts one call in 100 ms buckets over the window; returns the window's totals. */
  private record(failed: boolean): { calls: number; failures: number } {
    const now = this.now();
    const at = now - (now % 100);
    let last = this.buckets.at(-1);
    if (last?.at !== at) this.buckets.push((last = { at, calls: 0, failures: 0 }));
    last.calls++;
    if (failed) last.failures++;
    while (this.buckets.length > 0 && this.buckets[0]!.at <= now - this.settings.windowMs) this.buckets.shift();
    let calls = 0;
    let failures = 0;
    for (const b of this.buckets) {
      calls += b.calls;
      failures += b.failures;
    }
    return { calls, failures };
  }
}
