import type { EventValue, StateEvent } from "../aggregation/tile-state.js";

/**
 * Events accepted since the last commit, waiting for it to fold them into their keys' states:
 * each key's events form a list in arrival order, each record naming the key's next one.
 *
 * Why wait: with 100k keys, folding an event into its key's state was a chain of cache misses
 * (the key's record, its state, each hop group's array and tiles), the largest cost of the
 * stream; folding a key's events together at the commit pays that chain once per key and commit,
 * right before compacting and encoding the same memory. Records in one Float64Array rather
 * than event objects: a commit's half a million events would outlive the young generation.
 *
 * @example
 * const pending = new PendingEvents(["amount"]);
 * const first = pending.push(ts, arrived, { amount: 3.5 }, -1);
 * pending.push(ts2, arrived2, { amount: 1 }, first); // the same key's next event
 * pending.each(first, (event) => state.add(event, watermark));
 */
export class PendingEvents {
  /**
   * Event i's record at i * stride: event time, created time, the index of its key's next event
   * (-1: none), then a float per column (NaN when the value is not a number: then in `others`,
   * or null). One record per event, not a column per field: a key's events lie far apart in
   * here, and each was one cache miss per field.
   */
  private records: Float64Array;
  private readonly others = new Map<number, EventValue>();
  private readonly stride: number;
  length = 0;

  constructor(private readonly columns: readonly string[]) {
    this.stride = HEAD + columns.length;
    this.records = new Float64Array(INITIAL * this.stride);
  }

  /** Adds an event after `previous` (its key's last pending event; -1 when it is the key's first) and returns its index. */
  push(ts: number, cr: number, values: Readonly<Record<string, EventValue>>, previous: number): number {
    const i = this.length++;
    let at = i * this.stride;
    if (at === this.records.length) {
      const grown = new Float64Array(2 * this.records.length);
      grown.set(this.records);
      this.records = grown;
    }
    const r = this.records;
    r[at] = ts;
    r[at + 1] = cr;
    r[at + 2] = -1;
    if (previous >= 0) r[previous * this.stride + 2] = i;
    at += HEAD;
    for (const column of this.columns) {
      const v = values[column] ?? null;
      if (typeof v === "number" && !Number.isNaN(v)) r[at] = v;
      else {
        r[at] = NaN;
        if (v !== null) this.others.set(at, v);
      }
      at++;
    }
    return i;
  }

  /** The event times (µs) of every event pushed, in push order (a commit's 700k in a growing array took 50-90 ms). */
  times(): Float64Array {
    const times = new Float64Array(this.length);
    const r = this.records;
    for (let i = 0, at = 0; i < times.length; i++, at += this.stride) times[i] = r[at]!;
    return times;
  }

  /** Calls `fold` with each event of the list that starts at `first`, in order; the event object is reused between calls. */
  each(first: number, fold: (event: StateEvent) => void): void {
    const r = this.records;
    const values: Record<string, EventValue> = {};
    const event = { ts: 0, cr: 0, values };
    for (let i = first; i >= 0; ) {
      let at = i * this.stride;
      event.ts = r[at]!;
      event.cr = r[at + 1]!;
      i = r[at + 2]!;
      at += HEAD;
      for (const column of this.columns) {
        const v = r[at]!;
        values[column] = Number.isNaN(v) ? (this.others.get(at) ?? null) : v;
        at++;
      }
      fold(event);
    }
  }
}

/** Floats in a record before its columns. */
const HEAD = 3;
const INITIAL = 4096;
