import { connect, type NatsConnection } from "nats";
import { StorageError } from "../errors.js";

/** Publishes events to a view's stream; resolves once the stream has stored them all. */
export type EventPublisher = (stream: { readonly stream: string; readonly subject: string }, events: readonly Record<string, unknown>[]) => Promise<void>;

/** The concrete subject a pushed event goes to: wildcards of the view's subject become `push`. */
const pushSubject = (subject: string): string => subject.split(".").map((t) => (t === "*" || t === ">" ? "push" : t)).join(".");

/**
 * A JetStream publisher for `POST /push` to aggregation views, connected on first use: pushed
 * events take the same path as every streamed event (the stream processor applies them and
 * appends them to the event log), so there is one source of truth for online and batch.
 */
export function natsEventPublisher(url: string): { publish: EventPublisher; close: () => Promise<void> } {
  let connection: Promise<NatsConnection> | undefined;
  const conn = (): Promise<NatsConnection> => {
    connection ??= connect({ servers: url, reconnect: true, maxReconnectAttempts: -1 }).catch((error: unknown) => {
      connection = undefined;
      throw new StorageError(`cannot reach NATS at ${url} (stream.nats.url): ${(error as Error).message}`, error);
    });
    return connection;
  };
  return {
    publish: async (stream, events) => {
      const js = (await conn()).jetstream();
      const subject = pushSubject(stream.subject);
      const encoder = new TextEncoder();
      try {
        await Promise.all(events.map((e) => js.publish(subject, encoder.encode(JSON.stringify(e, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v))))));
      } catch (error) {
        throw new StorageError(`JetStream did not store the pushed events on ${subject}: ${(error as Error).message}`, error);
      }
    },
    close: async () => {
      if (connection !== undefined) await (await connection.catch(() => undefined))?.drain();
    },
  };
}
