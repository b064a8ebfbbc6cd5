import assert from "node:assert/strict";
import type { DuckDb } from "../../src/offline/duckdb.js";
import { parseJsonExact } from "../../src/server/json.js";
import { ServingLogLayout } from "../../src/serving-log/serving-log-layout.js";

export interface LoggedRow {
  readonly request_id: string;
  readonly served_at: string;
  readonly service: string | null;
  readonly row_index: number;
  readonly subject_keys: string[];
  readonly entity: string;
  readonly features: string;
  readonly degraded: boolean;
}

/** Every row of the serving log's files, by request id and row. */
export async function loggedRows(duck: DuckDb, offlineRoot: string): Promise<LoggedRow[]> {
  const files = await new ServingLogLayout(offlineRoot).partFiles();
  if (files.length === 0) return [];
  const list = files.map((f) => `'${f}'`).join(", ");
  return (await duck.rows(
    `SELECT request_id, strftime(served_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS served_at, service, row_index, subject_keys, entity, features, degraded FROM read_parquet([${list}]) ORDER BY request_id, row_index`,
  )) as unknown as LoggedRow[];
}

/** One response as the client saw it: the request, and the body (parsed exactly: big integers as bigints). */
export interface Served {
  readonly requestId: string;
  readonly service: string | null;
  readonly entities: Readonly<Record<string, readonly unknown[]>>;
  readonly body: Record<string, unknown>;
}

interface LoggedFeature {
  feature: string;
  view: string;
  version: number;
  value: unknown;
  status: string;
  event_timestamp: string | null;
}

const EPOCH = "1970-01-01T00:00:00Z";

/** The oracle: the log's rows of a response hold exactly what the response served, row by row, feature by feature. */
export function assertLoggedAsServed(rows: readonly LoggedRow[], served: Served, timestampFeatures: ReadonlySet<string> = new Set()): void {
  const mine = rows.filter((r) => r.request_id === served.requestId);
  const results = served.body.results as { values: unknown[]; statuses: string[]; event_timestamps: string[] }[];
  const names = (served.body.metadata as { feature_names: string[] }).feature_names;
  const entityRows = results[0]!.values.length;
  assert.deepEqual(mine.map((r) => r.row_index), Array.from({ length: entityRows }, (_, i) => i), `rows of ${served.requestId}`);
  const versions = served.body.view_versions as Record<string, number> | undefined;
  for (const row of mine) {
    const i = row.row_index;
    assert.equal(row.service, served.service);
    assert.equal(row.degraded, served.body.degraded ?? false);
    const features = parseJsonExact(row.features) as LoggedFeature[];
    const keys = names.length - features.length;
    const entity = parseJsonExact(row.entity) as Record<string, unknown>;
    assert.deepEqual(Object.keys(entity).sort(), names.slice(0, keys).sort(), "the row's join keys");
    for (const [name, value] of Object.entries(entity)) {
      assert.equal(String(value), String(served.entities[name]![i]));
      assert.ok(row.subject_keys.includes(`${name}=${String(served.entities[name]![i])}`), `subject key ${name} in ${JSON.stringify(row.subject_keys)}`);
    }
    features.forEach((f, j) => {
      const column = results[keys + j]!;
      const where = `${served.requestId} row ${i} ${f.feature}`;
      assert.ok(names[keys + j] === f.feature.split(":")[1] || names[keys + j] === f.feature.replace(":", "__"), `${where}: name ${names[keys + j]}`);
      assert.equal(f.view, f.feature.split(":")[0]);
      if (versions !== undefined) assert.equal(f.version, versions[f.view], `${where}: version`);
      const value = timestampFeatures.has(f.feature) && typeof f.value === "string" ? Math.floor(Date.parse(f.value) / 1000) : f.value;
      assert.deepEqual(value, column.values[i], `${where}: value`);
      assert.equal(f.status, column.statuses[i], `${where}: status`);
      assert.equal(f.event_timestamp ?? EPOCH, column.event_timestamps[i], `${where}: event time`);
    });
  }
}
