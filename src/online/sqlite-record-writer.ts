import type Database from "better-sqlite3";
import { insertDeadLetterSql, nowMicros, recordFromRow, RECORD_COLUMNS, saveCheckpointSql, upsertSealedSql, upsertTail, type OnlineDialect } from "./online-sql.js";
import { newestPerKey, type OnlineWrite, type StateWrite, type StoredRecord, type StreamCheckpoint, type ViewRef } from "./online-store.js";

export const sqliteDialect: OnlineDialect = { param: () => "?", table: (name) => name, greatest: "max" };

/** A row of a commit that was applied: its index in the rows given, and its write time. */
export type AppliedWrite = readonly [index: number, writeTs: number];

/** The applied rows of a commit as records (without their sealed tiles: a record is what a read of the row returns). */
export function appliedRecords(rows: readonly StateWrite[], applied: readonly AppliedWrite[]): StoredRecord[] {
  return applied.map(([i, writeTs]) => {
    const { entityKey, values, eventTs, createdTs } = rows[i]!;
    return { entityKey, values, eventTs, createdTs, writeTs };
  });
}

/**
 * The statements that write online records and stream checkpoints, prepared once on one SQLite
 * connection: the store's own, or its commit thread's (see sqlite-commit-thread.ts).
 */
export class SqliteRecordWriter {
  private readonly upsert: Database.Statement;
  /** The same upsert returning only the write time: a stream commit has the rest, and copying states back cost as much as writing them. */
  private readonly upsertStates: Database.Statement;
  private readonly sealed: Database.Statement;
  private readonly letter: Database.Statement;
  private readonly checkpoint: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly project: string,
  ) {
    this.upsert = db.prepare(`INSERT INTO online_records AS t (project, view, version, ${RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ${upsertTail(sqliteDialect)}`);
    this.upsertStates = db.prepare(`INSERT INTO online_records AS t (project, view, version, ${RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ${upsertTail(sqliteDialect, "write_ts")}`);
    this.sealed = db.prepare(upsertSealedSql(sqliteDialect));
    this.letter = db.prepare(insertDeadLetterSql(sqliteDialect));
    this.checkpoint = db.prepare(saveCheckpointSql(sqliteDialect));
  }

  /** Compare-and-set upserts in one transaction; the rows applied. */
  writeBatch(view: ViewRef, rows: readonly OnlineWrite[]): StoredRecord[] {
    return this.db
      .transaction(() => {
        const writeTs = nowMicros();
        return newestPerKey(rows).flatMap((r) =>
          (this.upsert.all(this.project, view.view, view.version, r.entityKey, r.values, r.eventTs, r.createdTs, writeTs) as Record<string, unknown>[]).map(recordFromRow),
        );
      })
      .immediate();
  }

  /** State rows, dead letters and the stream position in one transaction; which rows applied (see appliedRecords). */
  commitCheckpoint(view: ViewRef, rows: readonly StateWrite[], checkpoint: StreamCheckpoint): AppliedWrite[] {
    const at = new Date().toISOString();
    const index = new Map(rows.map((r, i) => [r, i]));
    return this.db
      .transaction(() => {
        const writeTs = nowMicros();
        const applied: AppliedWrite[] = [];
        for (const r of newestPerKey(rows)) {
          const stored = this.upsertStates.get(this.project, view.view, view.version, r.entityKey, r.values, r.eventTs, r.createdTs, writeTs) as { write_ts: number } | undefined;
          if (stored === undefined) continue;
          applied.push([index.get(r)!, Number(stored.write_ts)]);
          if (r.sealed !== undefined) this.sealed.run(this.project, view.view, view.version, r.entityKey, r.sealed);
        }
        for (const d of checkpoint.deadLetters) this.letter.run(this.project, checkpoint.consumer, d.seq, d.reason, d.payload, at);
        this.checkpoint.run(this.project, checkpoint.consumer, checkpoint.seq, checkpoint.watermark, checkpoint.deadLetters.length, at);
        return applied;
      })
      .immediate();
  }
}
