import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { LineBatches } from "./log-writer.js";
import { ParquetLogSink } from "./parquet-log-sink.js";
import type { FromWorker, ToWorker, WorkerSettings } from "./worker-log-writer.js";

/** The serving log's writer thread: renders packed responses into lines and writes the files (see LineBatches). */
const settings = workerData as WorkerSettings;
const batches = new LineBatches(new ParquetLogSink(settings.offlineRoot, settings.duck), settings.maxWriteAttempts);
const port = parentPort!;
const reply = (message: FromWorker): void => port.postMessage(message);

/**
 * This thread yields the CPU to serving: under load the log waits (its rows are buffered),
 * requests do not. Linux sets a nice value per thread; elsewhere, or when refused, it runs at
 * normal priority.
 */
function runBelowServing(): void {
  try {
    setPriority(Number(readlinkSync("/proc/thread-self").split("/").pop()), settings.niceness);
  } catch {
    // no per-thread priority here: normal priority
  }
}

runBelowServing();
port.on("message", (message: ToWorker) => {
  if (message.type === "plan") batches.plan(message.id, message.spec);
  else if (message.type === "rows") batches.rows(message.packed, message.rows, message.responses);
  else if (message.type === "flush") void batches.flush().then((report) => reply({ type: "flushed", seq: message.seq, report }));
  else void batches.close().then(() => reply({ type: "closed" }));
});
