import { NEVER, type EventValue, type StateFloats } from "./key-state-codec.js";
import { floatPool } from "./float-pool.js";
import { TILE, tileEnd, type ColumnSlots, type GroupLayout } from "./tile-layout.js";

/** One event as the streaming side holds it: event and created (arrival) times in µs, column values. */
export interface StateEvent {
  readonly ts: number;
  readonly cr: number;
  readonly values: Readonly<Record<string, EventValue>>;
}

/** A released group's floats: none, so it can never write into floats the pool has handed out again. */
const RELEASED = new Float64Array(0);

const floorTo = (x: number, step: number): number => x - (((x % step) + step) % step);

/** A window's partials for one column while merging tiles (lo, hi and l are null when c is 0). */
interface Merged {
  n: number;
  c: number;
  s: number;
  lo: EventValue;
  hi: EventValue;
  l: EventValue;
  lt: number;
  lc: number;
}

/**
 * One hop group's part of a key's state (see tile-state.ts): its tile count, then its tiles, in
 * one Float64Array in the stored layout (key-state-codec.ts); values that are not numbers sit in
 * `others` by float index. Each group has its own array, so a tile added to one group does not
 * move the others' floats.
 *
 * Tiles ascend by start (the order they were stored in may not, in states written before that
 * was kept: then every event looks through all of them). An event in order lands in the last
 * tile or a new one after it, found without walking the tiles before: a key's tiles span days,
 * and walking them for every event read more memory than anything else the stream did.
 */
export class GroupTiles {
  /** Where the last tile starts (-1: no tile). */
  private last = -1;
  private ascending = true;

  constructor(
    readonly g: GroupLayout,
    private f: Float64Array,
    private used: number,
    private others: Map<number, EventValue>,
  ) {
    this.locate();
  }

  static empty(g: GroupLayout): GroupTiles {
    return new GroupTiles(g, new Float64Array(1), 1, new Map());
  }

  get floats(): StateFloats {
    return { floats: this.f, used: this.used, others: this.others };
  }

  get empty(): boolean {
    return this.f[0] === 0;
  }

  /** How many tiles `keep` selects (by their start). */
  countTiles(keep: (g: GroupLayout, start: number) => boolean): number {
    let n = 0;
    let at = 1;
    for (let k = this.f[0]!; k > 0; k--) {
      if (keep(this.g, this.f[at]!)) n++;
      at = this.tileEnd(at);
    }
    return n;
  }

  add(event: StateEvent, watermark: number): void {
    const g = this.g;
    const start = floorTo(event.ts, g.hopMicros);
    const last = this.last;
    let tile = -1;
    let at = this.used; // where a new tile goes
    if (last >= 0 && this.f[last] === start) tile = last;
    else if (!this.ascending || (last >= 0 && start < this.f[last]!)) [tile, at] = this.find(start);
    const open = start + g.hopMicros > watermark;
    const fresh = tile < 0;
    if (fresh) {
      tile = at;
      this.newTile(tile, start, open);
    }
    const f = this.f;
    f[tile + TILE.events]!++;
    f[tile + TILE.maxTs] = Math.max(f[tile + TILE.maxTs]!, event.ts);
    for (const c of g.columns) this.fold(tile, c, event.values[c.column] ?? null, event.ts, event.cr);
    if (open) this.appendRaw(tile, event, fresh);
  }

  /** The tile starting at `start` (-1: none) and where a new one goes: before the first later tile while they ascend, else last. */
  private find(start: number): [tile: number, at: number] {
    let at = 1;
    for (let k = this.f[0]!; k > 0; k--) {
      const s = this.f[at]!;
      if (s === start) return [at, -1];
      if (this.ascending && s > start) return [-1, at];
      at = this.tileEnd(at);
    }
    return [-1, at];
  }

  /** Gives its floats back to the pool: it must not be used after. */
  release(): void {
    floatPool.release(this.f);
    this.f = RELEASED;
    this.used = 0;
  }

  /** Drops what no read at or after the watermark needs: tiles before every window, raw events of closed tiles. */
  compact(watermark: number): void {
    const g = this.g;
    const oldest = floorTo(watermark, g.hopMicros) - g.longestWindowMicros;
    let read = 1;
    let write = 1;
    let kept = 0;
    for (let k = this.f[0]!; k > 0; k--) {
      const end = this.tileEnd(read);
      const start = this.f[read]!;
      if (start >= oldest) {
        const closes = start + g.hopMicros <= watermark && this.f[read + TILE.rawCount]! >= 0;
        this.move(read, write, closes ? g.tileWidth : end - read);
        if (closes) this.f[write + TILE.rawCount] = -1;
        write += closes ? g.tileWidth : end - read;
        kept++;
      }
      read = end;
    }
    this.f[0] = kept;
    if (this.others.size > 0) for (const at of this.others.keys()) if (at >= write) this.others.delete(at);
    this.used = write;
    this.locate();
  }

  /** Sets `out[name]` for the group's aggregates at time t (µs): count 0 and null for the others on an empty window. */
  valuesAt(t: number, out: Record<string, EventValue>): void {
    const g = this.g;
    const he = floorTo(t, g.hopMicros);
    for (const a of g.aggregates) {
      const m: Merged = { n: 0, c: 0, s: 0, lo: null, hi: null, l: null, lt: NEVER, lc: NEVER };
      let at = 1;
      for (let k = this.f[0]!; k > 0; k--) {
        const start = this.f[at]!;
        if (start >= he - a.windowMicros && start < he) this.mergeTile(m, at, a.slots);
        else if (start === he) {
          if (this.f[at + TILE.rawCount]! >= 0 && this.f[at + TILE.maxTs]! >= t) this.mergeRaw(m, at + g.tileWidth, this.f[at + TILE.rawCount]!, a.slots, t);
          else this.mergeTile(m, at, a.slots);
        }
        at = this.tileEnd(at);
      }
      out[a.spec.name] = value(a.spec, m);
    }
  }

  /** Finds the last tile and whether the tiles ascend (after anything but `insert` moved them). */
  private locate(): void {
    let at = 1;
    let previous = -Infinity;
    this.last = -1;
    this.ascending = true;
    for (let k = this.f[0]!; k > 0; k--) {
      const start = this.f[at]!;
      if (start <= previous) this.ascending = false;
      previous = start;
      this.last = at;
      at = this.tileEnd(at);
    }
  }

  private get(at: number): EventValue {
    const v = this.f[at]!;
    return Number.isNaN(v) ? (this.others.get(at) ?? null) : v;
  }

  private set(at: number, v: EventValue): void {
    if (typeof v === "number" && !Number.isNaN(v)) {
      this.f[at] = v;
      if (this.others.size > 0) this.others.delete(at); // most states hold numbers only
    } else {
      this.f[at] = NaN;
      if (v === null || typeof v === "number") this.others.delete(at);
      else this.others.set(at, v);
    }
  }

  private tileEnd(tile: number): number {
    return tileEnd(this.g, this.f, tile);
  }

  /** Inserts an empty tile at `at`; an open one with room for its first raw event (one move of what follows, not two), which `appendRaw` must fill next. */
  private newTile(at: number, start: number, open: boolean): void {
    const g = this.g;
    this.insert(at, g.tileWidth + (open ? g.rawWidth : 0));
    if (at > this.last) this.last = at;
    const f = this.f;
    f[0]!++;
    f[at + TILE.start] = start;
    f[at + TILE.events] = 0;
    f[at + TILE.maxTs] = -Infinity;
    f[at + TILE.rawCount] = open ? 0 : -1;
    for (const c of g.columns) {
      f[at + c.count] = 0;
      if (c.sum >= 0) f[at + c.sum] = 0;
      if (c.min >= 0) f[at + c.min] = NaN;
      if (c.max >= 0) f[at + c.max] = NaN;
      if (c.last >= 0) {
        f[at + c.last] = NaN;
        f[at + c.last + 1] = NEVER;
        f[at + c.last + 2] = NEVER;
      }
    }
  }

  private fold(tile: number, c: ColumnSlots, v: EventValue, ts: number, cr: number): void {
    if (v === null) return;
    const f = this.f;
    f[tile + c.count]!++;
    if (c.sum >= 0 && typeof v === "number") f[tile + c.sum]! += v;
    if (c.min >= 0) {
      const lo = this.get(tile + c.min);
      if (lo === null || v < lo) this.set(tile + c.min, v);
    }
    if (c.max >= 0) {
      const hi = this.get(tile + c.max);
      if (hi === null || v > hi) this.set(tile + c.max, v);
    }
    if (c.last >= 0 && later(ts, cr, f[tile + c.last + 1]!, f[tile + c.last + 2]!)) {
      this.set(tile + c.last, v);
      f[tile + c.last + 1] = ts;
      f[tile + c.last + 2] = cr;
    }
  }

  /** Appends the event to an open tile's raw events (a tile closed earlier reopens with only the later ones, as the window contract never reads it raw). */
  private appendRaw(tile: number, event: StateEvent, roomMade: boolean): void {
    const g = this.g;
    const raw = Math.max(0, this.f[tile + TILE.rawCount]!);
    const at = tile + g.tileWidth + raw * g.rawWidth;
    if (!roomMade) this.insert(at, g.rawWidth);
    this.f[tile + TILE.rawCount] = raw + 1;
    this.f[at] = event.ts;
    this.f[at + 1] = event.cr;
    for (const c of g.columns) this.set(at + c.raw, event.values[c.column] ?? null);
  }

  private mergeTile(m: Merged, tile: number, slots: ColumnSlots | undefined): void {
    m.n += this.f[tile + TILE.events]!;
    if (slots === undefined) return;
    const c = this.f[tile + slots.count]!;
    if (c === 0) return;
    m.c += c;
    if (slots.sum >= 0) m.s += this.f[tile + slots.sum]!;
    if (slots.min >= 0) m.lo = lower(m.lo, this.get(tile + slots.min));
    if (slots.max >= 0) m.hi = higher(m.hi, this.get(tile + slots.max));
    if (slots.last >= 0 && later(this.f[tile + slots.last + 1]!, this.f[tile + slots.last + 2]!, m.lt, m.lc)) {
      m.l = this.get(tile + slots.last);
      m.lt = this.f[tile + slots.last + 1]!;
      m.lc = this.f[tile + slots.last + 2]!;
    }
  }

  /** Folds the head tile's raw events before t (`count` of them from `at`), in arrival order. */
  private mergeRaw(m: Merged, at: number, count: number, slots: ColumnSlots | undefined, t: number): void {
    const rawWidth = this.g.rawWidth;
    for (let r = count; r > 0; r--, at += rawWidth) {
      const ts = this.f[at]!;
      if (ts >= t) continue;
      m.n++;
      const v = slots === undefined ? null : this.get(at + slots.raw);
      if (v === null) continue;
      m.c++;
      if (typeof v === "number") m.s += v;
      m.lo = lower(m.lo, v);
      m.hi = higher(m.hi, v);
      if (later(ts, this.f[at + 1]!, m.lt, m.lc)) {
        m.l = v;
        m.lt = ts;
        m.lc = this.f[at + 1]!;
      }
    }
  }

  /** Makes room for `width` floats at `at`, moving what follows (and its non-number values). */
  private insert(at: number, width: number): void {
    if (this.used + width > this.f.length) {
      // Half as much again as needed, or more (the pool's size classes): a key's tiles grow for days.
      const grown = floatPool.take(1.5 * (this.used + width));
      grown.set(this.f); // all of it (it is smaller): a subarray view cost more than the floats past `used`
      floatPool.release(this.f);
      this.f = grown;
    }
    this.f.copyWithin(at + width, at, this.used);
    this.used += width;
    if (this.last >= at) this.last += width;
    if (this.others.size > 0) this.others = new Map([...this.others].map(([i, v]) => [i >= at ? i + width : i, v]));
  }

  /** Moves `width` floats from `from` down to `to` (to <= from), with their non-number values. */
  private move(from: number, to: number, width: number): void {
    if (from === to) return;
    this.f.copyWithin(to, from, from + width);
    if (this.others.size === 0) return;
    const moved: [number, EventValue][] = [];
    for (const [i, v] of this.others) {
      if (i >= from && i < from + width) moved.push([i - from + to, v]);
      if ((i >= from && i < from + width) || (i >= to && i < to + width)) this.others.delete(i);
    }
    for (const [i, v] of moved) this.others.set(i, v);
  }
}

const later = (ts: number, cr: number, lt: number, lc: number): boolean => ts > lt || (ts === lt && cr > lc);
const lower = (a: EventValue, b: EventValue): EventValue => (b !== null && (a === null || b < a) ? b : a);
const higher = (a: EventValue, b: EventValue): EventValue => (b !== null && (a === null || b > a) ? b : a);

function value(a: GroupLayout["aggregates"][number]["spec"], m: Merged): EventValue {
  if (a.column === null) return m.n;
  if (a.function === "count") return m.c;
  if (m.c === 0) return null;
  switch (a.function) {
    case "sum":
      return m.s;
    case "mean":
      return m.s / m.c;
    case "min":
      return m.lo;
    case "max":
      return m.hi;
    case "last":
      return m.l;
  }
}
