import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { exists } from "./exists.js";
import type { DuckDb } from "../../src/offline/duckdb.js";

export interface TrainingDataSize {
  readonly views: number;
  readonly rowsPerView: number;
  readonly entities: number;
  readonly days: number;
  readonly labels: number;
}

export const featureNames = (view: string): string[] => [`${view}_f1`, `${view}_f2`, `${view}_f3`];
export const viewName = (i: number): string => `view${i + 1}`;

/**
 * Writes one Parquet source per view (driver_id, event_timestamp, created_timestamp, 3 features)
 * and a labels file, deterministically (hash-based), unless already there. Event times spread
 * over `days`; created times lag events by up to 2 hours; labels fall in the same range.
 */
export async function generateTrainingData(duck: DuckDb, dir: string, size: TrainingDataSize): Promise<{ sources: string[]; labels: string }> {
  await mkdir(dir, { recursive: true });
  const spanUs = `${size.days} * 86400000000`;
  const sources: string[] = [];
  for (let i = 0; i < size.views; i++) {
    const view = viewName(i);
    const [f1, f2, f3] = featureNames(view);
    const file = join(dir, `${view}.parquet`);
    sources.push(file);
    if (await exists(file)) continue;
    await duck.run(`COPY (
      SELECT (r % ${size.entities})::BIGINT AS driver_id,
             TIMESTAMPTZ '2024-01-01' + to_microseconds((hash(r * 31 + ${i}) % (${spanUs}))::BIGINT) AS event_timestamp,
             event_timestamp + to_microseconds((hash(r * 17 + ${i}) % 7200000000)::BIGINT) AS created_timestamp,
             (hash(r * 13 + ${i}) % 1000000 / 1000000.0)::FLOAT AS ${f1},
             (hash(r * 7 + ${i}) % 1000 / 10.0)::FLOAT AS ${f2},
             (hash(r * 3 + ${i}) % 5000)::BIGINT AS ${f3}
      FROM range(${size.rowsPerView}) t(r)) TO '${file}' (FORMAT parquet)`);
  }
  const labels = join(dir, "labels.parquet");
  if (!(await exists(labels))) {
    await duck.run(`COPY (
      SELECT (hash(r * 101) % ${size.entities})::BIGINT AS driver_id,
             TIMESTAMPTZ '2024-01-01' + to_microseconds((hash(r * 103) % (${spanUs}))::BIGINT) AS event_timestamp,
             (hash(r * 107) % 2 = 0) AS label
      FROM range(${size.labels}) t(r)) TO '${labels}' (FORMAT parquet)`);
  }
  return { sources, labels };
}
