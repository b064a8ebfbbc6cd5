/** What one copy's step removed (erase) or still holds (verify), in words and a count. */
export interface CopyReport {
  /** The step (ErasureCopy.name) that made the report: a resumed erasure skips steps it finds. */
  readonly step?: string;
  /** durable-online-store, cache, offline-store, serving-log, streaming-state. */
  readonly copy: string;
  readonly count: number;
  readonly detail: string;
}

/**
 * One erasure of a data subject, as the registry keeps it: the ledger every copy's step reads.
 * The subject is join key → value (as text); `boundaryMicros` is the erasure time: data of the
 * subject with event or created time at or before it is erased wherever it is, and events at or
 * before it that arrive later (a replay) are dropped. `views` are the views it covers (every
 * version). Steps record their reports as they finish, so a killed erase resumes where it was.
 */
export interface ErasureRecord {
  readonly id: string;
  readonly subject: Readonly<Record<string, string>>;
  readonly views: readonly string[];
  readonly boundaryMicros: number;
  readonly reason: string | null;
  readonly actor: string;
  readonly requestedAt: string;
  readonly status: "running" | "done";
  /** Whether the offline files still hold the subject (hidden by the tombstone until `strata compact`). */
  readonly offlinePending: boolean;
  readonly steps: readonly CopyReport[];
  readonly completedAt: string | null;
}

/** The subject as text: `customer_id=42` (join keys in name order). */
export function subjectLabel(subject: Readonly<Record<string, string>>): string {
  return Object.keys(subject)
    .sort()
    .map((k) => `${k}=${subject[k]!}`)
    .join(",");
}
