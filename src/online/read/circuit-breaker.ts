import { RateWindow } from "../../monitoring/rate-window.js";

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
  private readonly recent: RateWindow;
  private openedAt = 0;
  private opened = false;
  private probing = false;

  constructor(
    private readonly settings: CircuitSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.recent = new RateWindow(settings.windowMs, 100, now);
  }

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
      this.recent.clear();
      return;
    }
    this.recent.record(false);
  }

  failure(): void {
    if (this.opened) {
      this.probing = false;
      this.openedAt = this.now();
      return;
    }
    this.recent.record(true);
    const { total, bad } = this.recent.totals();
    if (total >= this.settings.minCalls && bad >= total * this.settings.failureRate) {
      this.opened = true;
      this.openedAt = this.now();
    }
  }
}
