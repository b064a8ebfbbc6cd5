import { parentPort, workerData } from "node:worker_threads";
import { openSqlite } from "../util/open-sqlite.js";
import { onlineDdl } from "./online-sql.js";
import type { CommitReply, CommitRequest } from "./sqlite-commit-thread.js";
import { sqliteDialect, SqliteRecordWriter } from "./sqlite-record-writer.js";

// The body of a SqliteCommitThread: its own connection to the store's file, one commit per message.
const { path, project } = workerData as { path: string; project: string };
const writer = new SqliteRecordWriter(openSqlite(path, "NORMAL", onlineDdl(sqliteDialect)), project);
const port = parentPort!;
port.on("message", (request: CommitRequest) => {
  try {
    port.postMessage({ id: request.id, records: writer.commitCheckpoint(request.view, request.rows, request.checkpoint) } satisfies CommitReply);
  } catch (error) {
    port.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) } satisfies CommitReply);
  }
});
