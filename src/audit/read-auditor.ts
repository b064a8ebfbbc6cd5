/** Records reads of the views whose reads are audited (`audit.reads`), off the request path. */
export interface ReadAuditor {
  /** Queues one entry per audited view among `views`; returns at once. */
  record(actor: string, views: readonly string[]): void;
  /** Appends what is queued; resolves when everything recorded so far is in the log. */
  drained(): Promise<void>;
}

/** How long reads gather before they are appended together (one transaction). */
const BATCH_MS = 100;

/**
 * Reads are recorded when the server has authorized them and appended in batches, one
 * transaction each, one batch at a time: a read of an audited view costs the request nothing but
 * a queue push, and the registry one commit per batch rather than per read. A failed append is
 * reported on stderr (the reads themselves were authorized and served).
 */
export function readAuditor(audited: readonly string[], append: (batch: readonly { actor: string; view: string }[]) => Promise<unknown>): ReadAuditor {
  const views = new Set(audited);
  let queued: { actor: string; view: string }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let appending: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    const batch = queued;
    queued = [];
    if (batch.length > 0) {
      appending = appending.then(() => append(batch)).then(
        () => undefined,
        (error: unknown) => console.error(`strata: could not audit ${batch.length} reads: ${(error as Error).message}`),
      );
    }
    return appending;
  };
  return {
    record(actor, read) {
      for (const view of read) if (views.has(view)) queued.push({ actor, view });
      if (queued.length > 0) timer ??= setTimeout(() => void flush(), BATCH_MS);
    },
    drained: flush,
  };
}
