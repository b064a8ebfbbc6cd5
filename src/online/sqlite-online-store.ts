import type Database from "better-sqlite3";
import { openSqlite } from "../util/open-sqlite.js";
import { checkpointFromRow, deadLetterFromRow, deadLetterSeqsSql, deadLettersPageSql, deleteSealedSql, redactDeadLettersSql, eraseTail, jobFromRow, jobParams, JOB_COLUMNS, loadCheckpointSql, nowMicros, onlineDdl, readStatesSql, RECORD_COLUMNS, recordFromRow, saveJobSql, stateFromRow } from "./online-sql.js";
import { SqliteCommitThread } from "./sqlite-commit-thread.js";
import { ERASED_VALUES, tombstone } from "./tombstone.js";
import { appliedRecords, sqliteDialect, SqliteRecordWriter } from "./sqlite-record-writer.js";
import { type StoredDeadLetter, type MaterializationJob, type MaterializationLog, type OnlineStore, type OnlineWrite, type SavedCheckpoint, type StateWrite, type StoredRecord, type StoredState, type StreamCheckpoint, type ViewRef } from "./online-store.js";

/** Keys per `IN (...)` read; SQLite allows many more parameters, this keeps statements cacheable. */
const READ_CHUNK = 256;

/**
 * The embedded durable online store: one SQLite file (WAL). Calls are synchronous inside (an
 * in-process B-tree lookup is microseconds) and committed before they resolve, so an
 * acknowledged write survives a crash of the process. Stream commits run on a thread of their own.
 */
export class SqliteOnlineStore implements OnlineStore {
  private readonly db: Database.Database;
  /** Prepared reads by key count: of records, and of records with their sealed tiles. */
  private readonly readStatements = new Map<number, Database.Statement>();
  private readonly stateStatements = new Map<number, Database.Statement>();
  private readonly writer: SqliteRecordWriter;
  private commitThread: SqliteCommitThread | undefined;
  readonly materializations: MaterializationLog;

  constructor(
    private readonly path: string,
    private readonly project: string,
  ) {
    // NORMAL with WAL: durable against a killed process (not a power cut).
    this.db = openSqlite(path, "NORMAL", onlineDdl(sqliteDialect));
    this.writer = new SqliteRecordWriter(this.db, project);
    this.materializations = sqliteMaterializationLog(this.db, project);
  }

  writeBatch(view: ViewRef, rows: readonly OnlineWrite[]): Promise<StoredRecord[]> {
    return Promise.resolve(this.writer.writeBatch(view, rows));
  }

  /** On the commit thread (an in-memory database has no other connection: here). */
  commitCheckpoint(view: ViewRef, rows: readonly StateWrite[], checkpoint: StreamCheckpoint): Promise<StoredRecord[]> {
    if (this.path === ":memory:") return Promise.resolve(appliedRecords(rows, this.writer.commitCheckpoint(view, rows, checkpoint)));
    this.commitThread ??= new SqliteCommitThread(this.path, this.project);
    return this.commitThread.commit(view, rows, checkpoint);
  }

  loadCheckpoint(consumer: string): Promise<SavedCheckpoint | undefined> {
    const row = this.db.prepare(loadCheckpointSql(sqliteDialect)).get(this.project, consumer) as Record<string, unknown> | undefined;
    return Promise.resolve(row === undefined ? undefined : checkpointFromRow(row));
  }

  deadLetterSeqs(consumer: string, from: number, to: number): Promise<Set<number>> {
    const rows = this.db.prepare(deadLetterSeqsSql(sqliteDialect)).all(this.project, consumer, from, to) as { seq: number }[];
    return Promise.resolve(new Set(rows.map((r) => Number(r.seq))));
  }

  deadLetters(consumer: string, afterSeq: number, limit: number): Promise<StoredDeadLetter[]> {
    const rows = this.db.prepare(deadLettersPageSql(sqliteDialect)).all(this.project, consumer, afterSeq, limit) as Record<string, unknown>[];
    return Promise.resolve(rows.map(deadLetterFromRow));
  }

  redactDeadLetters(consumer: string, seqs: readonly number[], payload: string): Promise<number> {
    const sql = redactDeadLettersSql(sqliteDialect, "SELECT value FROM json_each(?)");
    return Promise.resolve(this.db.prepare(sql).all(payload, this.project, consumer, JSON.stringify(seqs), payload).length);
  }

  readMany(view: ViewRef, entityKeys: readonly string[]): Promise<(StoredRecord | undefined)[]> {
    return Promise.resolve(this.read(view, entityKeys, this.readStatements, (keysIn) => `SELECT ${RECORD_COLUMNS} FROM online_records WHERE project = ? AND view = ? AND version = ? AND entity_key IN (${keysIn})`, recordFromRow));
  }

  readStates(view: ViewRef, entityKeys: readonly string[]): Promise<(StoredState | undefined)[]> {
    return Promise.resolve(this.read(view, entityKeys, this.stateStatements, (keysIn) => readStatesSql(sqliteDialect, keysIn), stateFromRow));
  }

  /** Reads in chunks of READ_CHUNK keys with statements prepared once per key count. */
  private read<T extends StoredRecord>(view: ViewRef, entityKeys: readonly string[], statements: Map<number, Database.Statement>, sql: (keysIn: string) => string, fromRow: (row: Record<string, unknown>) => T): (T | undefined)[] {
    const found = new Map<string, T>();
    for (let i = 0; i < entityKeys.length; i += READ_CHUNK) {
      const chunk = entityKeys.slice(i, i + READ_CHUNK);
      let statement = statements.get(chunk.length);
      if (statement === undefined) statements.set(chunk.length, (statement = this.db.prepare(sql(Array(chunk.length).fill("?").join(", ")))));
      for (const row of statement.all(this.project, view.view, view.version, ...chunk) as Record<string, unknown>[]) {
        const record = fromRow(row);
        found.set(record.entityKey, record);
      }
    }
    return entityKeys.map((k) => found.get(k));
  }

  delete(view: ViewRef, entityKeys: readonly string[]): Promise<number> {
    const remove = this.db.prepare("DELETE FROM online_records WHERE project = ? AND view = ? AND version = ? AND entity_key = ?");
    const unseal = this.db.prepare(deleteSealedSql(sqliteDialect, "?"));
    const run = this.db.transaction(() =>
      entityKeys.reduce((n, key) => {
        unseal.run(this.project, view.view, view.version, key);
        return n + remove.run(this.project, view.view, view.version, key).changes;
      }, 0),
    );
    return Promise.resolve(run.immediate());
  }

  erase(view: ViewRef, entityKeys: readonly string[], boundaryMicros: number): Promise<{ tombstones: StoredRecord[]; removed: number }> {
    const held = this.db.prepare("SELECT 1 FROM online_records WHERE project = ? AND view = ? AND version = ? AND entity_key = ? AND feature_values <> ?");
    const write = this.db.prepare(`INSERT INTO online_records AS t (project, view, version, ${RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ${eraseTail(sqliteDialect)}`);
    const unseal = this.db.prepare(deleteSealedSql(sqliteDialect, "?"));
    const run = this.db.transaction(() => {
      const writeTs = nowMicros();
      let removed = 0;
      const tombstones: StoredRecord[] = [];
      for (const key of new Set(entityKeys)) {
        if (held.get(this.project, view.view, view.version, key, ERASED_VALUES) !== undefined) removed++;
        unseal.run(this.project, view.view, view.version, key);
        const t = tombstone(key, boundaryMicros);
        const row = write.get(this.project, view.view, view.version, t.entityKey, t.values, t.eventTs, t.createdTs, writeTs) as Record<string, unknown> | undefined;
        if (row !== undefined) tombstones.push(recordFromRow(row));
      }
      return { tombstones, removed };
    });
    return Promise.resolve(run.immediate());
  }

  listKeys(view: ViewRef, after: string | null, limit: number): Promise<string[]> {
    const rows = this.db
      .prepare("SELECT entity_key FROM online_records WHERE project = ? AND view = ? AND version = ? AND entity_key > ? ORDER BY entity_key LIMIT ?")
      .all(this.project, view.view, view.version, after ?? "", limit) as { entity_key: string }[];
    return Promise.resolve(rows.map((r) => r.entity_key));
  }

  teardown(view?: ViewRef): Promise<void> {
    const run = this.db.transaction(() => {
      for (const table of ["online_records", "sealed_tiles"]) {
        if (view === undefined) this.db.prepare(`DELETE FROM ${table} WHERE project = ?`).run(this.project);
        else this.db.prepare(`DELETE FROM ${table} WHERE project = ? AND view = ? AND version = ?`).run(this.project, view.view, view.version);
      }
    });
    run.immediate();
    return Promise.resolve();
  }

  async close(): Promise<void> {
    await this.commitThread?.close();
    this.db.close();
  }
}

function sqliteMaterializationLog(db: Database.Database, project: string): MaterializationLog {
  const where = "WHERE project = ? AND view = ? AND version = ?";
  return {
    find: (view, start, end) => {
      const row = db.prepare(`SELECT ${JOB_COLUMNS} FROM materializations ${where} AND start_ts = ? AND end_ts = ?`).get(project, view.view, view.version, start, end);
      return Promise.resolve(row === undefined ? undefined : jobFromRow(row as Record<string, unknown>));
    },
    save: (job: MaterializationJob) => {
      db.prepare(saveJobSql(sqliteDialect)).run(...jobParams(project, job));
      return Promise.resolve();
    },
    lastEnd: (view) => {
      const row = db.prepare(`SELECT max(end_ts) AS last FROM materializations ${where} AND status = 'done'`).get(project, view.view, view.version) as { last: number | null };
      return Promise.resolve(row.last ?? undefined);
    },
  };
}
