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
 * Parses a JetStream ack subject, the bytes in [from, to), in either form servers send:
 * `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ns>.<pending>` (up to 2.9) or
 * `$JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ns>.<pending>[.<token>]`.
 * Returns undefined for anything else (e.g. a status message). It reads the bytes as the socket
 * received them: a string per message cost more than the parse.
 *
 * @example
 * const subject = Buffer.from("$JS.ACK.tx.c.1.42.7.1700000000000000000.9");
 * parseAckSubject(subject, 0, subject.length);
 * // { streamSeq: 42, deliverySeq: 7, redelivered: false, storedMicros: 1700000000000000, pending: 9 }
 */
export function parseAckSubject(bytes: Uint8Array, from: number, to: number): AckInfo | undefined {
  if (to - from < PREFIX.length) return undefined;
  for (let i = 0; i < PREFIX.length; i++) if (bytes[from + i] !== PREFIX[i]) return undefined;
  // Token bounds by scanning, without splitting: this runs for every message a processor takes.
  let tokens = 1;
  for (let i = from; i < to && tokens <= MAX_TOKENS; i++) if (bytes[i] === DOT) dots[tokens++ - 1] = i;
  const at = tokens === 9 ? 4 : tokens >= 11 && tokens <= MAX_TOKENS ? 6 : -1;
  if (at < 0) return undefined;
  dots[tokens - 1] = to;
  const nanosStart = dots[at + 2]! + 1;
  return {
    streamSeq: token(bytes, at + 1),
    deliverySeq: token(bytes, at + 2),
    redelivered: token(bytes, at) > 1,
    // The nanosecond count has 19 digits, beyond a double's exact range: its µs digits only.
    storedMicros: digits(bytes, nanosStart, Math.max(nanosStart, dots[at + 3]! - 3)),
    pending: token(bytes, at + 4),
  };
}

/** The number in token k (after dot k - 1; `dots` as the last parse left it). */
function token(bytes: Uint8Array, k: number): number {
  return digits(bytes, dots[k - 1]! + 1, dots[k]!);
}

const PREFIX = Buffer.from("$JS.ACK.", "latin1");
const DOT = 46;
const MAX_TOKENS = 16;
/** Index of each dot, then the subject's end after the last token. */
const dots = new Int32Array(MAX_TOKENS);

/** The decimal number in bytes[from, to): NaN if anything else is there, 0 if empty. */
function digits(bytes: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = bytes[i]! - 48;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}
