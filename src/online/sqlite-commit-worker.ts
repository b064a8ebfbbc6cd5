import { parentPort, workerData } from "node:worker_threads";
import { openSqlite } from "../util/open-sqlite.js";
import type { CommitReply, CommitRequest } from "./sqlite-commit-thread.js";
import { SqliteRecordWriter } from "./sqlite-record-writer.js";

// The body of a SqliteCommitThread: its own connection to the store's file (whose tables the
// store's connection created), one commit per message.
const { path, project } = workerData as { path: string; project: string };
const writer = new SqliteRecordWriter(openSqlite(path, "NORMAL", []), project);
const port = parentPort!;
port.on("message", (request: CommitRequest) => {
  try {
    port.postMessage({ id: request.id, applied: writer.commitCheckpoint(request.view, request.rows, request.checkpoint) } satisfies CommitReply);
  } catch (error) {
    port.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) } satisfies CommitReply);
  }
});
