/** What a JetStream message's reply (ack) subject says about its delivery. */
export interface AckInfo {
  /** The message's sequence in the stream. */
  readonly streamSeq: number;
  /** The consumer's delivery counter: +1 per delivery, so a gap means a lost delivery. */
  readonly deliverySeq: number;
  readonly redelivered: boolean;
  /** When the stream stored the message, in µs since the epoch. */
  readonly storedMicros: number;
  /** Messages left for the consumer after this one (its lag). */
  readonly pending: number;
}

/**
 * Parses a JetStream ack subject in either form servers send:
 * `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ns>.<pending>` (up to 2.9) or
 * `$JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ns>.<pending>[.<token>]`.
 * Returns undefined for anything else (e.g. a status message).
 *
 * @example
 * parseAckSubject("$JS.ACK.tx.c.1.42.7.1700000000000000000.9");
 * // { streamSeq: 42, deliverySeq: 7, redelivered: false, storedMicros: 1700000000000000, pending: 9 }
 */
export function parseAckSubject(subject: string | undefined): AckInfo | undefined {
  if (subject === undefined || !subject.startsWith("$JS.ACK.")) return undefined;
  const t = subject.split(".");
  const at = t.length === 9 ? 4 : t.length >= 11 ? 6 : -1;
  if (at < 0) return undefined;
  const delivered = Number(t[at]);
  const nanos = t[at + 3]!;
  return {
    streamSeq: Number(t[at + 1]),
    deliverySeq: Number(t[at + 2]),
    redelivered: delivered > 1,
    // The nanosecond count has 19 digits, beyond a double's exact range: cut to µs as text first.
    storedMicros: Number(nanos.slice(0, -3) || "0"),
    pending: Number(t[at + 4]),
  };
}
