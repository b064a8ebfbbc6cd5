import { Worker } from "node:worker_threads";
import type { StateWrite, StoredRecord, StreamCheckpoint, ViewRef } from "./online-store.js";
import { appliedRecords, type AppliedWrite } from "./sqlite-record-writer.js";

export interface CommitRequest {
  readonly id: number;
  readonly view: ViewRef;
  readonly rows: readonly StateWrite[];
  readonly checkpoint: StreamCheckpoint;
}
export type CommitReply = { readonly id: number; readonly applied: AppliedWrite[] } | { readonly id: number; readonly error: string };

/**
 * Stream commits on their own thread and SQLite connection (same file, WAL), so a stream
 * processor keeps applying events while a commit's upserts and WAL checkpoint run: the embedded
 * store's writes are synchronous and were most of a commit's time on the event loop. The thread
 * answers with which rows applied and their write times only: the states stay on this side.
 */
export class SqliteCommitThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { rows: readonly StateWrite[]; resolve: (records: StoredRecord[]) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private dead: Error | undefined;

  constructor(path: string, project: string) {
    this.worker = new Worker(new URL("./sqlite-commit-worker.js", import.meta.url), { workerData: { path, project } });
    // Keeps the process alive only while a commit is under way.
    this.worker.unref();
    this.worker.on("message", (reply: CommitReply) => {
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) this.worker.unref();
      if (waiter === undefined) return;
      if ("error" in reply) waiter.reject(new Error(`SQLite stream commit failed: ${reply.error}`));
      else waiter.resolve(appliedRecords(waiter.rows, reply.applied));
    });
    this.worker.on("error", (error) => this.fail(error));
    this.worker.on("exit", (code) => this.fail(new Error(`the SQLite commit thread exited (code ${code})`)));
  }

  commit(view: ViewRef, rows: readonly StateWrite[], checkpoint: StreamCheckpoint): Promise<StoredRecord[]> {
    if (this.dead !== undefined) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { rows, resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ id, view, rows, checkpoint } satisfies CommitRequest);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  /** A dead thread fails what waits and every later commit (nothing would ever answer them). */
  private fail(error: Error): void {
    this.dead ??= error;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }
}
