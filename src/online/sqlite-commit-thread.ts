import { Worker } from "node:worker_threads";
import type { OnlineWrite, StoredRecord, StreamCheckpoint, ViewRef } from "./online-store.js";

export interface CommitRequest {
  readonly id: number;
  readonly view: ViewRef;
  readonly rows: readonly OnlineWrite[];
  readonly checkpoint: StreamCheckpoint;
}
export type CommitReply = { readonly id: number; readonly records: StoredRecord[] } | { readonly id: number; readonly error: string };

/**
 * Stream commits on their own thread and SQLite connection (same file, WAL), so a stream
 * processor keeps applying events while a commit's upserts and WAL checkpoint run: the embedded
 * store's writes are synchronous and were most of a commit's time on the event loop.
 */
export class SqliteCommitThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (records: StoredRecord[]) => void; reject: (error: Error) => void }>();
  private nextId = 0;

  constructor(path: string, project: string) {
    this.worker = new Worker(new URL("./sqlite-commit-worker.js", import.meta.url), { workerData: { path, project } });
    this.worker.unref();
    this.worker.on("message", (reply: CommitReply) => {
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if ("error" in reply) waiter?.reject(new Error(`SQLite stream commit failed: ${reply.error}`));
      else waiter?.resolve(reply.records);
    });
    this.worker.on("error", (error) => this.failAll(error));
    this.worker.on("exit", (code) => this.failAll(new Error(`the SQLite commit thread exited (code ${code})`)));
  }

  commit(view: ViewRef, rows: readonly OnlineWrite[], checkpoint: StreamCheckpoint): Promise<StoredRecord[]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, view, rows, checkpoint } satisfies CommitRequest);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private failAll(error: Error): void {
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }
}
