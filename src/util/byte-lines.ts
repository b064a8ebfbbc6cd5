const ZERO = 0x30;
const MINUS = 0x2d;
/** A safe integer's digits and sign. */
const MAX_INTEGER_BYTES = 17;

/**
 * Log lines written straight into large byte buffers, piece by piece. Joining a line's pieces
 * as strings first and encoding them after cost twice as much (V8 walks every piece of a joined
 * string again to encode it); ASCII text is copied byte by byte here, anything else is left to
 * the UTF-8 encoder. A response's bytes can be taken back (`rollback`) until the next `begin`.
 */
export class ByteLines {
  private readonly full: Buffer[] = [];
  private buf: Buffer;
  private off = 0;
  private start = 0;
  private written = 0;

  constructor(private readonly size = 1 << 20) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Bytes written (and not taken back) in all. */
  get length(): number {
    return this.written + this.off;
  }

  /** Starts a response: `rollback` returns here. */
  begin(): void {
    this.start = this.off;
  }

  rollback(): void {
    this.off = this.start;
  }

  /** One ASCII character, by its code (a separator: no string to make or walk). */
  ascii(code: number): void {
    if (this.off === this.buf.length) this.grow(1);
    this.buf[this.off++] = code;
  }

  text(piece: string): void {
    const n = piece.length;
    if (this.off + 3 * n > this.buf.length) this.grow(3 * n);
    const buf = this.buf;
    let off = this.off;
    for (let i = 0; i < n; i++) {
      const c = piece.charCodeAt(i);
      if (c >= 0x80) {
        this.off += buf.write(piece, this.off, "utf8");
        return;
      }
      buf[off++] = c;
    }
    this.off = off;
  }

  /**
   * A number as String() writes it (JSON's text for a finite one). Safe integers are written
   * digit by digit, in two halves of at most 8 digits (int32 arithmetic): String() made a string
   * per value, and log lines are mostly integers (keys, row numbers, µs times). So are short
   * decimals (amounts, prices: see `shortDecimal`); any other number goes through String().
   */
  number(n: number): void {
    if (!Number.isSafeInteger(n)) {
      if (!this.shortDecimal(n)) this.text(String(n));
      return;
    }
    this.integer(n);
  }

  private integer(n: number): void {
    if (this.off + MAX_INTEGER_BYTES > this.buf.length) this.grow(MAX_INTEGER_BYTES);
    if (n < 0) {
      this.buf[this.off++] = MINUS;
      n = -n;
    }
    if (n < HALF) {
      this.off = writeDigits(this.buf, this.off, n, digitCount(n));
      return;
    }
    const high = Math.floor(n / HALF);
    const at = writeDigits(this.buf, this.off, high, digitCount(high));
    this.off = writeDigits(this.buf, at, n - high * HALF, 8);
  }

  /**
   * Writes n when it is a decimal of 1 to 4 fraction digits below 10^11, as String() would: the
   * fewest fraction digits k whose decimal m / 10^k is n (a double's shortest text has the fewest
   * digits). Below that bound the double's spacing is under 10^-k, so only one such decimal rounds
   * to n, the one String() picks too. False (nothing written) for any other number.
   */
  private shortDecimal(n: number): boolean {
    const a = Math.abs(n);
    if (!(a >= 1e-4 && a < DECIMAL_LIMIT)) return false; // NaN too
    for (let k = 1; k < POWERS.length; k++) {
      const p = POWERS[k]!;
      const m = Math.round(a * p);
      if (m / p !== a) continue;
      const fraction = m % p;
      if (n < 0) this.ascii(MINUS);
      this.integer((m - fraction) / p);
      this.ascii(DOT);
      // The fraction's k digits, zero-padded (no trailing zero: k - 1 digits would have matched).
      if (this.off + k > this.buf.length) this.grow(k);
      this.off = writeDigits(this.buf, this.off, fraction, k);
      return true;
    }
    return false;
  }

  /** Everything written, as buffers (this object is spent after). */
  chunks(): Buffer[] {
    return [...this.full, this.buf.subarray(0, this.off)];
  }

  /** A new buffer, into which the response being written moves (so it stays whole, and can still be taken back). */
  private grow(needed: number): void {
    const current = this.off - this.start;
    const next = Buffer.allocUnsafe(Math.max(this.size, 2 * (current + needed)));
    this.buf.copy(next, 0, this.start, this.off);
    if (this.start > 0) this.full.push(this.buf.subarray(0, this.start));
    this.written += this.start;
    this.buf = next;
    this.off = current;
    this.start = 0;
  }
}

const DOT = 0x2e;
/** 10^k for the fraction digits `shortDecimal` tries (k = 1..4). */
const POWERS = [1, 10, 100, 1000, 10_000];
/** Below it, a double's spacing times 10^4 is under 1 (see `shortDecimal`). */
const DECIMAL_LIMIT = 1e11;

/** Below 10^8: an int32, written with int32 arithmetic. */
const HALF = 1e8;

/** "00" to "99" as ASCII pairs: two digits per division. */
const PAIRS = Buffer.from(Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0")).join(""), "latin1");

/** Digits of x (< 10^8), by comparison: a division per digit cost more than writing them. */
function digitCount(x: number): number {
  if (x < 1e4) return x < 10 ? 1 : x < 100 ? 2 : x < 1e3 ? 3 : 4;
  return x < 1e5 ? 5 : x < 1e6 ? 6 : x < 1e7 ? 7 : 8;
}

/** Writes x (< 10^8) as `width` digits, zero-padded, at `at`; returns the index after them. */
function writeDigits(buf: Buffer, at: number, x: number, width: number): number {
  let i = at + width;
  while (i - at >= 2) {
    const q = (x / 100) | 0;
    const pair = (x - q * 100) * 2;
    buf[--i] = PAIRS[pair + 1]!;
    buf[--i] = PAIRS[pair]!;
    x = q;
  }
  if (i > at) buf[at] = ZERO + x;
  return at + width;
}
