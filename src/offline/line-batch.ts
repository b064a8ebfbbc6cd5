import { ByteLines } from "../util/byte-lines.js";

/** New chunks: large writes, few chunks for half a million lines, little waste for a push of a few rows. */
const CHUNK_BYTES = 256 * 1024;
const NEWLINE = 0x0a;

/**
 * Newline-terminated lines kept as UTF-8 bytes outside the JS heap until they are written. A
 * stream processor holds up to a million event-log lines between appends: as strings they
 * outlived the young generation and were copied into the old one, a large share of its GC time.
 * A line is pushed whole, or written piece by piece (`text`, `number`) and ended (`endLine`),
 * which makes no string for it at all.
 *
 * @example
 * const batch = new LineBatch();
 * batch.push('{"id":1}');
 * batch.text('{"id":');
 * batch.number(2);
 * batch.text("}");
 * batch.endLine();
 * batch.length; // 2
 * Buffer.concat(batch.chunks()).toString(); // '{"id":1}\n{"id":2}\n'
 */
export class LineBatch {
  private readonly bytes = new ByteLines(CHUNK_BYTES);
  private count = 0;

  /** Appends one line (it must not contain a newline). */
  push(line: string): void {
    this.text(line);
    this.endLine();
  }

  /** Appends text to the line being written. */
  text(piece: string): void {
    this.bytes.text(piece);
  }

  /** Appends a number to the line being written, as JSON writes it. */
  number(n: number): void {
    this.bytes.number(n);
  }

  /** Ends the line being written. */
  endLine(): void {
    this.bytes.ascii(NEWLINE);
    this.bytes.begin(); // a chunk that fills up moves only the next line's bytes
    this.count++;
  }

  /** How many lines it holds. */
  get length(): number {
    return this.count;
  }

  /** The bytes, in order. */
  chunks(): readonly Uint8Array[] {
    return this.bytes.chunks().filter((chunk) => chunk.length > 0);
  }
}
