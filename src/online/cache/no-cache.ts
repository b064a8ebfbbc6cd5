import type { FeatureCache } from "./feature-cache.js";

/**
 * No cache: for batch processes (materialization from the CLI) configured with the in-process
 * cache, which only the serving process's memory could use. Every read misses; populates
 * are dropped (the server's own cache refills from the durable store within its TTL).
 */
export class NoCache implements FeatureCache {
  readonly layer = "none";
  readonly sharedAcrossProcesses = false;

  getMany(keys: readonly string[]): Promise<(string | null)[]> {
    return Promise.resolve(keys.map(() => null));
  }

  populate(): Promise<number> {
    return Promise.resolve(0);
  }

  delete(): Promise<void> {
    return Promise.resolve();
  }

  tryLock(): Promise<boolean> {
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
