export class TimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

/**
 * Settles like `work`, or rejects with TimeoutError after `ms` (the work itself is not
 * cancelled). When the timer fires, the rejection waits for the I/O the event loop has
 * pending (setImmediate runs after the poll phase): if this process was descheduled, an answer
 * that arrived meanwhile wins, so the timeout measures the dependency, not our own stalls.
 */
export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => setImmediate(() => !settled && reject(new TimeoutError(ms))), ms);
    work.then(
      (value) => {
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        settled = true;
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
