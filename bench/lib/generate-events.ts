import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { exists } from "./exists.js";
import type { DuckDb } from "../../src/offline/duckdb.js";

export interface EventDataSize {
  readonly events: number;
  readonly keys: number;
  readonly days: number;
  readonly labels: number;
}

/**
 * Generates (once; cached in `dir`) a card-transactions event file and a labels file with DuckDB:
 * card_id uniform over `keys`, times uniform over `days` (µs resolution) from 2024-01-01, an
 * amount (some nulls), a created time up to 10 minutes after the event; labels at random cards
 * and times over the same range.
 */
export async function generateEvents(duck: DuckDb, dir: string, size: EventDataSize): Promise<{ events: string; labels: string }> {
  await mkdir(dir, { recursive: true });
  const events = join(dir, "events.parquet");
  const labels = join(dir, "labels.parquet");
  const span = size.days * 86_400_000_000;
  if (!(await exists(events))) {
    await duck.run(
      `COPY (SELECT (hash(i) % ${size.keys})::BIGINT + 1 AS card_id, make_timestamp(1704067200000000 + (hash(i * 7 + 1) % ${span})::BIGINT)::TIMESTAMPTZ AS ts, ` +
        `ts + to_microseconds((hash(i * 13 + 5) % 600000000)::BIGINT) AS created, CASE WHEN hash(i * 3) % 20 = 0 THEN NULL ELSE round((hash(i * 11) % 100000) / 100.0, 2) END::DOUBLE AS amount ` +
        `FROM range(${size.events}) t(i)) TO '${events}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)`,
    );
  }
  if (!(await exists(labels))) {
    await duck.run(
      `COPY (SELECT (hash(i + 99991) % ${size.keys})::BIGINT + 1 AS card_id, make_timestamp(1704067200000000 + (hash(i * 17 + 3) % ${span})::BIGINT)::TIMESTAMPTZ AS event_timestamp, (i % 2)::INTEGER AS label ` +
        `FROM range(${size.labels}) t(i)) TO '${labels}' (FORMAT parquet)`,
    );
  }
  return { events, labels };
}
