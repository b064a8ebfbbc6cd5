import type { CacheConfig } from "../../config/project-config.js";
import type { FeatureCache, PopulateEntry } from "../cache/feature-cache.js";
import type { OnlineMetrics } from "../online-metrics.js";

export interface PopulateTask extends PopulateEntry {
  /** When the durable write committed (ms), for the consistency-window histogram; absent for miss fills. */
  readonly committedAt?: number;
}

/**
 * Populates the cache off the request path: tasks queue up (one per key: a newer write time
 * replaces a waiting older one), a worker sends them in batches, retries failures with a
 * delay, and drops what still fails (counted; the next miss fills the key from the durable
 * store). Beyond `queueSize` waiting tasks, new ones are dropped the same way.
 */
export class PopulateQueue {
  private readonly waiting = new Map<string, PopulateTask>();
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly cache: FeatureCache,
    private readonly settings: CacheConfig["populate"],
    private readonly metrics: OnlineMetrics,
  ) {}

  get size(): number {
    return this.waiting.size;
  }

  get capacity(): number {
    return this.settings.queueSize;
  }

  enqueue(tasks: readonly PopulateTask[]): void {
    for (const task of tasks) {
      const current = this.waiting.get(task.key);
      if (current !== undefined && current.writeTs > task.writeTs) continue;
      if (current === undefined && this.waiting.size >= this.settings.queueSize) {
        this.metrics.populateDropped.inc({ reason: "queue full" });
        continue;
      }
      this.waiting.set(task.key, task);
    }
    if (this.waiting.size > 0 && !this.closed) this.running ??= this.work().finally(() => (this.running = undefined));
  }

  /** Resolves once everything queued so far has been sent (or dropped). */
  async drain(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
  }

  private async work(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve)); // let the request that queued these finish first
    while (this.waiting.size > 0) {
      const batch: PopulateTask[] = [];
      for (const [key, task] of this.waiting) {
        batch.push(task);
        this.waiting.delete(key);
        if (batch.length >= this.settings.batchSize) break;
      }
      await this.send(batch);
    }
  }

  private async send(batch: readonly PopulateTask[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.cache.populate(batch);
        const now = Date.now();
        for (const t of batch) if (t.committedAt !== undefined) this.metrics.populateLag.observe((now - t.committedAt) / 1000);
        return;
      } catch {
        this.metrics.populateFailures.inc();
        if (attempt >= this.settings.retries) {
          this.metrics.populateDropped.inc({ reason: "retries exhausted" }, batch.length);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, this.settings.retryDelayMs * (attempt + 1)));
      }
    }
  }
}
