import type { DuckDb } from "../offline/duckdb.js";
import type { OnlineService } from "../online/online-service.js";
import type { ViewVersionRecord } from "../registry/registry-records.js";
import type { CopyReport, ErasureRecord } from "./erasure-record.js";

/** What every copy's step works with: the erasure (subject, boundary), the view versions it reaches, and the stores. */
export interface ErasureContext {
  readonly erasure: ErasureRecord;
  /** The project (it names stream consumers). */
  readonly project: string;
  /** How long after the boundary servers may still hold rows served before it, unwritten (ms; 0 when nothing is logged). */
  readonly servingLogSettleMs: number;
  readonly views: readonly ViewVersionRecord[];
  readonly online: OnlineService;
  readonly duck: DuckDb;
  readonly offlineRoot: string;
}

/**
 * One place a data subject's values live (durable store and cache, offline files, serving log, stream dead letters).
 * `erase` is idempotent (a resumed erasure runs it again); `remaining` scans the copy and
 * reports what of the subject from at or before the boundary it still holds.
 */
export interface ErasureCopy {
  readonly name: string;
  erase(ctx: ErasureContext): Promise<CopyReport[]>;
  remaining(ctx: ErasureContext): Promise<CopyReport[]>;
}
