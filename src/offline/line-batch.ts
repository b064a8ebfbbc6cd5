/** Chunks start small (a push of a few rows) and double up to this: large writes, few chunks for half a million lines. */
const FIRST_CHUNK_BYTES = 64 * 1024;
const MAX_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Newline-terminated lines kept as UTF-8 bytes outside the JS heap until they are written. A
 * stream processor holds up to half a million event-log lines between appends: as strings they
 * outlived the young generation and were copied into the old one, a large share of its GC time;
 * here each line's string dies young.
 *
 * @example
 * const batch = new LineBatch();
 * batch.push('{"id":1}');
 * batch.length; // 1
 * Buffer.concat(batch.chunks()).toString(); // '{"id":1}\n'
 */
export class LineBatch {
  private readonly full: Uint8Array[] = [];
  private current = Buffer.allocUnsafe(FIRST_CHUNK_BYTES);
  private used = 0;
  private count = 0;

  static of(lines: Iterable<string>): LineBatch {
    const batch = new LineBatch();
    for (const line of lines) batch.push(line);
    return batch;
  }

  /** Appends one line (it must not contain a newline). */
  push(line: string): void {
    if (this.used + line.length * 3 + 1 > this.current.length) {
      if (this.used > 0) this.full.push(this.current.subarray(0, this.used));
      this.current = Buffer.allocUnsafe(Math.max(Math.min(2 * this.current.length, MAX_CHUNK_BYTES), line.length * 3 + 1));
      this.used = 0;
    }
    this.used += this.current.write(line, this.used);
    this.current[this.used++] = 0x0a;
    this.count++;
  }

  /** How many lines it holds. */
  get length(): number {
    return this.count;
  }

  /** The bytes, in order. */
  chunks(): readonly Uint8Array[] {
    return this.used === 0 ? this.full : [...this.full, this.current.subarray(0, this.used)];
  }
}
