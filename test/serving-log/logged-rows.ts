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
  readonly feature_values: string;
  readonly statuses: string;
  readonly event_timestamps: string;
  readonly degraded: boolean;
}

/** Every row of the serving log's files, by request id and row. */
export async function loggedRows(duck: DuckDb, offlineRoot: string): Promise<LoggedRow[]> {
  const files = await new ServingLogLayout(offlineRoot).partFiles();
  if (files.length === 0) return [];
  const list = files.map((f) => `'${f}'`).join(", ");
  return (await duck.rows(
    `SELECT request_id, strftime(served_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS served_at, service, row_index, subject_keys, entity, features, feature_values, statuses, event_timestamps, degraded FROM read_parquet([${list}]) ORDER BY request_id, row_index`,
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
  /** Epoch microseconds. */
  event_time: number | null;
}

const STATUS_NAMES: Readonly<Record<string, string>> = { P: "PRESENT", N: "NULL_VALUE", M: "NOT_FOUND", O: "OUTSIDE_MAX_AGE", D: "DEFAULTED" };

/** A row's features decoded from its columns as the README describes them (independently of the log's own SQL). */
export function loggedFeatures(row: LoggedRow): LoggedFeature[] {
  const identities = JSON.parse(row.features) as { feature: string; view: string; version: number }[];
  const values = parseJsonExact(row.feature_values) as unknown[];
  const times = JSON.parse(row.event_timestamps) as Record<string, number | null>;
  assert.equal(values.length, identities.length, "a value per feature");
  assert.equal(row.statuses.length, identities.length, "a status per feature");
  return identities.map((f, j) => ({ ...f, value: values[j], status: STATUS_NAMES[row.statuses[j]!]!, event_time: times[f.view] ?? null }));
}

/** Epoch microseconds of an RFC 3339 time in UTC, to the microsecond ("…T12:00:00.123456Z"). */
function micros(text: string): number {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?Z$/.exec(text);
  assert.ok(match !== null, `an RFC 3339 UTC time: ${text}`);
  return Date.parse(`${match[1]!}Z`) * 1000 + Number((match[2] ?? "").padEnd(6, "0"));
}

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
    const features = loggedFeatures(row);
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
      assert.equal(f.event_time ?? 0, micros(column.event_timestamps[i]!), `${where}: event time`);
    });
  }
}
