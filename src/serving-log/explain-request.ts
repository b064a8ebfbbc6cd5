import { NotFoundError } from "../errors.js";
import type { DuckDb } from "../offline/duckdb.js";
import { feastTimestamp } from "../server/feast-format.js";
import { parseJsonExact } from "../server/json.js";
import { requestIdTime } from "./request-id.js";
import { readableLogFiles } from "./readable-log-files.js";
import { datesAround } from "./serving-log-layout.js";
import { requestFeaturesSql } from "./serving-log-sql.js";

/** One feature value a response served: from which view version, with which status and event time. */
export interface ServedFeature {
  readonly feature: string;
  readonly view: string;
  readonly version: number;
  /** As served (Int64 beyond 2^53 as bigint, timestamps as RFC 3339 text, bytes as base64). */
  readonly value: unknown;
  readonly status: string;
  readonly eventTimestamp: string | null;
}

export interface ExplainedRow {
  readonly rowIndex: number;
  /** The row's join keys. */
  readonly entity: Readonly<Record<string, unknown>>;
  readonly features: readonly ServedFeature[];
}

/** What one logged request was served, entity row by entity row. */
export interface Explanation {
  readonly requestId: string;
  readonly servedAt: string;
  readonly service: string | null;
  readonly degraded: boolean;
  readonly rows: readonly ExplainedRow[];
}

/**
 * Looks a request up in the serving log. Its id starts with its time, so only that date's
 * partition (and the days either side, for clocks at midnight) is read.
 */
export async function explainRequest(duck: DuckDb, offlineRoot: string, requestId: string): Promise<Explanation> {
  const at = requestIdTime(requestId);
  if (at === undefined) throw new NotFoundError("request", requestId, "not a request id (they start with their time, e.g. lvmr5c00-9f3a1b2c1)");
  const dates = datesAround(at);
  const files = await readableLogFiles(duck, offlineRoot, dates);
  const found = files.length === 0 ? [] : await duck.rows(requestFeaturesSql(files, requestId));
  const first = found[0];
  if (first === undefined) {
    throw new NotFoundError("request", requestId, `not in the serving log (searched ${dates[0]} to ${dates[2]}): is servingLog enabled for it in strata.yaml, was it sampled, and has the server flushed since?`);
  }
  const rows: ExplainedRow[] = [];
  for (const r of found) {
    const rowIndex = r.row_index as number;
    if (rows.at(-1)?.rowIndex !== rowIndex) rows.push({ rowIndex, entity: parseJsonExact(r.entity as string) as Record<string, unknown>, features: [] });
    (rows.at(-1)!.features as ServedFeature[]).push({
      feature: r.feature as string,
      view: r.view as string,
      version: r.version as number,
      value: r.value === null ? null : parseJsonExact(r.value as string),
      status: r.status as string,
      eventTimestamp: r.event_time === null ? null : feastTimestamp(Number(r.event_time)),
    });
  }
  return { requestId, servedAt: first.served_at as string, service: first.service as string | null, degraded: first.degraded as boolean, rows };
}
