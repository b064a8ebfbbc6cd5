/**
 * Packed responses (see log-rows.ts) in the form that is cheapest to post to a worker: numbers,
 * booleans and nulls in typed arrays (transferred, not copied), strings end to end in one string
 * (their lengths among the numbers), anything else (bigints, lists, bytes) in a short list.
 * Posting plain lists cost the server's thread ~4 µs a response, serializing values one by one.
 */
export interface TransferablePacked {
  /** Per value: 0 null, 1 number (the next of `numbers`), 2 true, 3 false, 4 the next of `others`, 5 a string (its length the next of `numbers`). */
  readonly kinds: Uint8Array<ArrayBuffer>;
  readonly numbers: Float64Array<ArrayBuffer>;
  readonly strings: string;
  readonly others: unknown[];
}

const NULL = 0;
const NUMBER = 1;
const TRUE = 2;
const FALSE = 3;
const OTHER = 4;
const STRING = 5;
const INITIAL_CAPACITY = 32_768;

interface Mark {
  readonly k: number;
  readonly n: number;
  readonly o: number;
  readonly s: number;
}

/** Collects packed values; `take` hands them over (their buffers can then be transferred) and starts afresh. */
export class PackedBuilder {
  private kinds = new Uint8Array(INITIAL_CAPACITY);
  private numbers = new Float64Array(INITIAL_CAPACITY);
  private others: unknown[] = [];
  private strings = "";
  private k = 0;
  private n = 0;

  get size(): number {
    return this.k;
  }

  put(v: unknown): void {
    if (this.k === this.kinds.length) this.grow();
    if (typeof v === "number") {
      this.kinds[this.k++] = NUMBER;
      this.numbers[this.n++] = v;
    } else if (typeof v === "string") {
      this.kinds[this.k++] = STRING;
      this.numbers[this.n++] = v.length;
      this.strings += v;
    } else if (v === null || v === undefined) this.kinds[this.k++] = NULL;
    else if (v === true) this.kinds[this.k++] = TRUE;
    else if (v === false) this.kinds[this.k++] = FALSE;
    else {
      this.kinds[this.k++] = OTHER;
      this.others.push(v);
    }
  }

  /** Where the values end now; `rollback` takes back what was put after. */
  mark(): Mark {
    return { k: this.k, n: this.n, o: this.others.length, s: this.strings.length };
  }

  rollback(mark: Mark): void {
    this.k = mark.k;
    this.n = mark.n;
    this.others.length = mark.o;
    this.strings = this.strings.slice(0, mark.s);
  }

  take(): TransferablePacked {
    const packed = { kinds: this.kinds.subarray(0, this.k), numbers: this.numbers.subarray(0, this.n), strings: this.strings, others: this.others };
    this.kinds = new Uint8Array(INITIAL_CAPACITY);
    this.numbers = new Float64Array(INITIAL_CAPACITY);
    this.others = [];
    this.strings = "";
    this.k = 0;
    this.n = 0;
    return packed;
  }

  private grow(): void {
    const kinds = new Uint8Array(this.kinds.length * 2);
    kinds.set(this.kinds);
    const numbers = new Float64Array(this.numbers.length * 2);
    numbers.set(this.numbers);
    this.kinds = kinds;
    this.numbers = numbers;
  }
}

/** The values, in order, as a plain list (on the writer's side). */
export function unpack({ kinds, numbers, strings, others }: TransferablePacked): unknown[] {
  const packed = new Array<unknown>(kinds.length);
  let n = 0;
  let o = 0;
  let s = 0;
  for (let i = 0; i < kinds.length; i++) {
    const kind = kinds[i];
    if (kind === STRING) {
      const end = s + numbers[n++]!;
      packed[i] = strings.slice(s, end);
      s = end;
    } else packed[i] = kind === NUMBER ? numbers[n++] : kind === NULL ? null : kind === TRUE ? true : kind === FALSE ? false : others[o++];
  }
  return packed;
}
