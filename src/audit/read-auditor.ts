/** Records reads of the views whose reads are audited (`audit.reads`), off the request's path. */
export interface ReadAuditor {
  /** Queues one entry per audited view among `views`; returns at once. */
  record(actor: string, views: readonly string[]): void;
  /** Resolves when everything queued so far is appended. */
  drained(): Promise<void>;
}

/**
 * Appends happen one after another, after the response: a read of an audited view costs one
 * chained append in the registry's database, not latency. A failed append is reported on stderr
 * (the read itself was authorized and served).
 */
export function readAuditor(audited: readonly string[], append: (actor: string, view: string) => Promise<unknown>): ReadAuditor {
  const views = new Set(audited);
  let tail: Promise<void> = Promise.resolve();
  return {
    record(actor, read) {
      for (const view of read) {
        if (!views.has(view)) continue;
        tail = tail.then(() => append(actor, view)).then(
          () => undefined,
          (error: unknown) => console.error(`strata: could not audit a read of ${view} by ${actor}: ${(error as Error).message}`),
        );
      }
    },
    drained: () => tail,
  };
}
