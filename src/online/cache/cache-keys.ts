import type { ViewRef } from "../online-store.js";

/**
 * The one place cache keys are made: `<prefix>:<project>:<view>:v<version>:<entity key>`.
 * No hash tags: keys spread over every shard of a cluster, and reads gather them per shard.
 *
 * @example
 * new CacheKeys("strata", "rides").entry({ view: "driver_stats", version: 2 }, "1001"); // "strata:rides:driver_stats:v2:1001"
 */
export class CacheKeys {
  private readonly base: string;

  constructor(prefix: string, project: string) {
    this.base = `${prefix}:${project}:`;
  }

  entry(view: ViewRef, entityKey: string): string {
    return `${this.base}${view.view}:v${view.version}:${entityKey}`;
  }

  /** Guards one early refresh of an entry across servers. */
  refreshLock(entryKey: string): string {
    return `${entryKey}:refresh-lock`;
  }
}
