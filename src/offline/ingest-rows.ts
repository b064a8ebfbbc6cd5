import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { storedView } from "../aggregation/stored-view.js";
import { valueTypeFromName } from "../definitions/value-type.js";
import type { ViewVersionRecord } from "../registry/registry-records.js";
import { quoteIdent, quoteString } from "../util/sql.js";
import type { DuckDb } from "./duckdb.js";
import { duckdbType } from "./duckdb-types.js";
import { ingestQuery, type IngestReport } from "./ingest.js";
import { jsonLine, writeLines } from "./json-lines.js";
import { LineBatch } from "./line-batch.js";

/** Options of an in-memory ingestion: the commit's source label, µs times (a stream processor's), the erasures' row filter. */
export interface IngestRowsOptions {
  readonly sourceLabel?: string;
  readonly timesInMicros?: boolean;
  readonly dropRows?: string;
}

/**
 * Ingests rows given in memory (a push to the offline store) through the same validation and
 * atomic commit as files: they are written as newline-delimited JSON and read with the view's
 * column types straight into the staged table. Rows name features and join keys as the view
 * does, and carry `timestampField` (and optionally `created_timestamp`): ISO text, or with
 * `timesInMicros` numbers of µs since the epoch.
 */
export function ingestRows(duck: DuckDb, record: ViewVersionRecord, offlineRoot: string, rows: readonly Readonly<Record<string, unknown>>[], timestampField: string, options: IngestRowsOptions = {}): Promise<IngestReport> {
  // Feast's clients send the created time as `created`.
  const createdOf = (r: Readonly<Record<string, unknown>>): unknown => r.created_timestamp ?? r.created ?? null;
  const hasCreated = rows.some((r) => createdOf(r) !== null);
  return ingestJson(duck, record, offlineRoot, { timestampField, hasCreated, ...options }, (path, columns) => {
    const line = jsonLine(columns);
    const batch = new LineBatch();
    for (const r of rows) line(batch, columns.map((c) => (c === "created_timestamp" ? createdOf(r) : r[c])));
    return writeLines(path, batch);
  });
}

/** Ingests a stream processor's events, already JSON lines with µs times and a created time (see stream/event-log-line.ts). */
export function ingestEventLines(duck: DuckDb, record: ViewVersionRecord, offlineRoot: string, lines: LineBatch, timestampField: string, options: Omit<IngestRowsOptions, "timesInMicros"> = {}): Promise<IngestReport> {
  return ingestJson(duck, record, offlineRoot, { timestampField, hasCreated: true, timesInMicros: true, ...options }, (path) => writeLines(path, lines));
}

async function ingestJson(
  duck: DuckDb,
  record: ViewVersionRecord,
  offlineRoot: string,
  options: IngestRowsOptions & { readonly timestampField: string; readonly hasCreated: boolean },
  write: (path: string, columns: readonly string[]) => Promise<void>,
): Promise<IngestReport> {
  const { timestampField, hasCreated } = options;
  const dir = await mkdtemp(join(tmpdir(), "strata-push-"));
  try {
    const spec = storedView(record.spec);
    const time = options.timesInMicros === true ? "BIGINT" : "TIMESTAMPTZ";
    const columns: [string, string][] = [
      ...spec.joinKeys.map((k): [string, string] => [k.name, duckdbType(k.type)]),
      [timestampField, time],
      ...(hasCreated ? [["created_timestamp", time] as [string, string]] : []),
      ...spec.features.map((f): [string, string] => [f.name, valueTypeFromName(f.type)?.scalar === "Bytes" && valueTypeFromName(f.type)?.isArray === false ? "VARCHAR" : duckdbType(f.type)]),
    ];
    const json = join(dir, "rows.json");
    await write(json, columns.map(([c]) => c));
    const select = columns.map(([c, type]) => {
      if (type === "VARCHAR" && spec.features.some((f) => f.name === c && f.type === "Bytes")) return `from_base64(${quoteIdent(c)}) AS ${quoteIdent(c)}`;
      if (type === "BIGINT" && (c === timestampField || c === "created_timestamp")) return `make_timestamp(${quoteIdent(c)})::TIMESTAMPTZ AS ${quoteIdent(c)}`;
      return quoteIdent(c);
    });
    const types = `{${columns.map(([c, t]) => `${quoteString(c)}: ${quoteString(t)}`).join(", ")}}`;
    const pushed: ViewVersionRecord = { ...record, spec: { ...spec, source: { ...spec.source, path: json, timestampField, createdTimestampField: hasCreated ? "created_timestamp" : null, fieldMapping: {} } } };
    const rows = `SELECT ${select.join(", ")} FROM read_json(${quoteString(json)}, format = 'newline_delimited', columns = ${types})`;
    return await ingestQuery(duck, { record: pushed, offlineRoot, path: json, sourceLabel: options.sourceLabel, dropRows: options.dropRows }, rows);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
