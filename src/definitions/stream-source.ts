import type { BatchSource } from "./batch-source.js";

/**
 * A stream source: events arrive on a NATS JetStream subject (or by `POST /push`), and `batch`
 * says where the same events' history lives, so batch and streaming read one event log.
 *
 * @example
 * streamSource({ nats: { stream: "transactions", subject: "tx.*" }, timestampField: "ts", batch: batchSource({ path: "data/tx/*.parquet", timestampField: "ts" }) });
 */
export interface StreamSourceInput {
  readonly nats: { readonly stream: string; readonly subject: string };
  /** The event time field of each message (ISO text or epoch milliseconds). */
  readonly timestampField: string;
  readonly batch: BatchSource;
  /** Defaults to the stream name. Also the name `POST /push` takes as `push_source_name`. */
  readonly name?: string;
  readonly description?: string;
}

export interface StreamSource extends StreamSourceInput {
  readonly kind: "streamSource";
}

export function streamSource(input: StreamSourceInput): StreamSource {
  return Object.freeze({ ...input, kind: "streamSource" });
}
