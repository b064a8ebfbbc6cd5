import type { SqlDialect } from "../registry/registry-sql.js";
import type { MaterializationJob, StoredDeadLetter, SavedCheckpoint, StoredRecord, StoredState } from "./online-store.js";

/**
 * SQL shared by the SQLite and PostgreSQL online stores (pure). A dialect supplies
 * placeholders, table names and its name for the larger of two values.
 */
export interface OnlineDialect extends SqlDialect {
  readonly greatest: "max" | "GREATEST";
}

export function onlineDdl(d: OnlineDialect): string[] {
  const text = "TEXT NOT NULL";
  const int = "BIGINT NOT NULL";
  return [
    `CREATE TABLE IF NOT EXISTS ${d.table("online_records")} (project ${text}, view ${text}, version ${int}, entity_key ${text}, feature_values ${text}, event_ts ${int}, created_ts ${int}, write_ts ${int}, PRIMARY KEY (project, view, version, entity_key))`,
    `CREATE TABLE IF NOT EXISTS ${d.table("sealed_tiles")} (project ${text}, view ${text}, version ${int}, entity_key ${text}, tiles ${text}, PRIMARY KEY (project, view, version, entity_key))`,
    `CREATE TABLE IF NOT EXISTS ${d.table("stream_checkpoints")} (project ${text}, consumer ${text}, seq ${int}, watermark ${int}, dead_letters ${int}, updated_at ${text}, PRIMARY KEY (project, consumer))`,
    `CREATE TABLE IF NOT EXISTS ${d.table("dead_letters")} (project ${text}, consumer ${text}, seq ${int}, reason ${text}, payload ${text}, recorded_at ${text}, PRIMARY KEY (project, consumer, seq))`,
    `CREATE TABLE IF NOT EXISTS ${d.table("materializations")} (project ${text}, view ${text}, version ${int}, start_ts ${int}, end_ts ${int}, status ${text}, resume_after TEXT, rows_written ${int}, updated_at ${text}, PRIMARY KEY (project, view, version, start_ts, end_ts))`,
  ];
}

export const RECORD_COLUMNS = "entity_key, feature_values, event_ts, created_ts, write_ts";

/**
 * The compare-and-set upsert tail: replace only a strictly older row (by event, then created
 * time) and give it a write time above the replaced one's, so cache populates can be ordered.
 */
export function upsertTail(d: OnlineDialect, returning = RECORD_COLUMNS): string {
  return (
    `ON CONFLICT (project, view, version, entity_key) DO UPDATE SET feature_values = excluded.feature_values, event_ts = excluded.event_ts, ` +
    `created_ts = excluded.created_ts, write_ts = ${d.greatest}(excluded.write_ts, t.write_ts + 1) ` +
    `WHERE excluded.event_ts > t.event_ts OR (excluded.event_ts = t.event_ts AND excluded.created_ts > t.created_ts) RETURNING ${returning}`
  );
}

/**
 * Writes a tombstone whatever the row holds (an erasure), except over a tombstone with a later
 * boundary; the write time still rises, so the cache takes it over any earlier entry.
 */
export function eraseTail(d: OnlineDialect): string {
  return (
    `ON CONFLICT (project, view, version, entity_key) DO UPDATE SET feature_values = excluded.feature_values, event_ts = excluded.event_ts, ` +
    `created_ts = excluded.created_ts, write_ts = ${d.greatest}(excluded.write_ts, t.write_ts + 1) ` +
    `WHERE t.feature_values <> excluded.feature_values OR t.event_ts <= excluded.event_ts RETURNING ${RECORD_COLUMNS}`
  );
}

/** Sealed tiles replace the stored ones: they are written only with a state row that applied, which makes them the newest. */
export const SEALED_UPSERT_TAIL = "ON CONFLICT (project, view, version, entity_key) DO UPDATE SET tiles = excluded.tiles";

/** Params: project, view, version, key, tiles. */
export function upsertSealedSql(d: OnlineDialect): string {
  const p = Array.from({ length: 5 }, (_, i) => d.param(i + 1));
  return `INSERT INTO ${d.table("sealed_tiles")} (project, view, version, entity_key, tiles) VALUES (${p.join(", ")}) ${SEALED_UPSERT_TAIL}`;
}

/** Params: project, view, version, then the keys (`keysIn`: the dialect's list of them from param 4). Records with their sealed tiles (column `sealed`). */
export function readStatesSql(d: OnlineDialect, keysIn: string): string {
  const on = ["project", "view", "version", "entity_key"].map((c) => `s.${c} = r.${c}`).join(" AND ");
  const columns = RECORD_COLUMNS.split(", ").map((c) => `r.${c}`).join(", ");
  return (
    `SELECT ${columns}, s.tiles AS sealed FROM ${d.table("online_records")} r LEFT JOIN ${d.table("sealed_tiles")} s ON ${on} ` +
    `WHERE r.project = ${d.param(1)} AND r.view = ${d.param(2)} AND r.version = ${d.param(3)} AND r.entity_key IN (${keysIn})`
  );
}

/** Params: project, view, version, then the keys (as in readStatesSql). */
export function deleteSealedSql(d: OnlineDialect, keysIn: string): string {
  return `DELETE FROM ${d.table("sealed_tiles")} WHERE project = ${d.param(1)} AND view = ${d.param(2)} AND version = ${d.param(3)} AND entity_key IN (${keysIn})`;
}

export function stateFromRow(row: Record<string, unknown>): StoredState {
  const record = recordFromRow(row);
  return row.sealed === null || row.sealed === undefined ? record : { ...record, sealed: row.sealed as string };
}

export function recordFromRow(row: Record<string, unknown>): StoredRecord {
  return {
    entityKey: row.entity_key as string,
    values: row.feature_values as string,
    eventTs: Number(row.event_ts),
    createdTs: Number(row.created_ts),
    writeTs: Number(row.write_ts),
  };
}

export const JOB_COLUMNS = "view, version, start_ts, end_ts, status, resume_after, rows_written, updated_at";

export function jobFromRow(row: Record<string, unknown>): MaterializationJob {
  return {
    view: row.view as string,
    version: Number(row.version),
    start: Number(row.start_ts),
    end: Number(row.end_ts),
    status: row.status as MaterializationJob["status"],
    resumeAfter: (row.resume_after as string | null) ?? null,
    rows: Number(row.rows_written),
    updatedAt: row.updated_at as string,
  };
}

export function jobParams(project: string, job: MaterializationJob): (string | number | null)[] {
  return [project, job.view, job.version, job.start, job.end, job.status, job.resumeAfter, job.rows, job.updatedAt];
}

export function saveJobSql(d: OnlineDialect): string {
  const params = Array.from({ length: 9 }, (_, i) => d.param(i + 1)).join(", ");
  return (
    `INSERT INTO ${d.table("materializations")} (project, ${JOB_COLUMNS}) VALUES (${params}) ON CONFLICT (project, view, version, start_ts, end_ts) ` +
    "DO UPDATE SET status = excluded.status, resume_after = excluded.resume_after, rows_written = excluded.rows_written, updated_at = excluded.updated_at"
  );
}

/** Write times in µs from the wall clock. */
export function nowMicros(): number {
  return Date.now() * 1000;
}

/** Params: project, consumer, seq, watermark, new dead letters, updated_at. The dead-letter count accumulates. */
export function saveCheckpointSql(d: OnlineDialect): string {
  const p = Array.from({ length: 6 }, (_, i) => d.param(i + 1));
  return (
    `INSERT INTO ${d.table("stream_checkpoints")} AS c (project, consumer, seq, watermark, dead_letters, updated_at) VALUES (${p.join(", ")}) ` +
    "ON CONFLICT (project, consumer) DO UPDATE SET seq = excluded.seq, watermark = excluded.watermark, dead_letters = c.dead_letters + excluded.dead_letters, updated_at = excluded.updated_at"
  );
}

/** Params: project, consumer, seq, reason, payload, recorded_at. A redelivered message is recorded once. */
export function insertDeadLetterSql(d: OnlineDialect): string {
  const p = Array.from({ length: 6 }, (_, i) => d.param(i + 1));
  return `INSERT INTO ${d.table("dead_letters")} (project, consumer, seq, reason, payload, recorded_at) VALUES (${p.join(", ")}) ON CONFLICT (project, consumer, seq) DO NOTHING`;
}

export function deadLetterFromRow(row: Record<string, unknown>): StoredDeadLetter {
  return { seq: Number(row.seq), reason: row.reason as string, payload: row.payload as string, recordedAt: row.recorded_at as string };
}

export function checkpointFromRow(row: Record<string, unknown>): SavedCheckpoint {
  return { seq: Number(row.seq), watermark: Number(row.watermark), deadLetters: Number(row.dead_letters) };
}

export function loadCheckpointSql(d: OnlineDialect): string {
  return `SELECT seq, watermark, dead_letters FROM ${d.table("stream_checkpoints")} WHERE project = ${d.param(1)} AND consumer = ${d.param(2)}`;
}

/** Params: project, consumer, after seq, limit. A page of a consumer's dead letters, in sequence order. */
export function deadLettersPageSql(d: OnlineDialect): string {
  return `SELECT seq, reason, payload, recorded_at FROM ${d.table("dead_letters")} WHERE project = ${d.param(1)} AND consumer = ${d.param(2)} AND seq > ${d.param(3)} ORDER BY seq LIMIT ${d.param(4)}`;
}

/**
 * Params: payload, project, consumer, the sequences (`seqsIn`: the dialect's set of them from
 * param 4), payload again (SQLite's `?` are positional). The rows (and their sequences, which a
 * replay skips) stay; their payloads are replaced. Returns the sequences changed.
 */
export function redactDeadLettersSql(d: OnlineDialect, seqsIn: string): string {
  return `UPDATE ${d.table("dead_letters")} SET payload = ${d.param(1)} WHERE project = ${d.param(2)} AND consumer = ${d.param(3)} AND seq IN (${seqsIn}) AND payload <> ${d.param(5)} RETURNING seq`;
}

export function deadLetterSeqsSql(d: OnlineDialect): string {
  return `SELECT seq FROM ${d.table("dead_letters")} WHERE project = ${d.param(1)} AND consumer = ${d.param(2)} AND seq >= ${d.param(3)} AND seq <= ${d.param(4)}`;
}
