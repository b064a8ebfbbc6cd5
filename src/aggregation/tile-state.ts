import type { AggregateSpec } from "../definitions/specs.js";
import { StorageError } from "../errors.js";
import { decodeFloats, encodeFloats, NEVER, type EventValue, type StateFloats } from "./key-state-codec.js";
import { encodeTiles, joinTiles, readSplit, sealedAt, withSplit } from "./key-state-split.js";
import { TILE, tileEnd, tileLayout, type ColumnSlots, type GroupLayout } from "./tile-layout.js";
import type { HopGroup } from "./tile-partials.js";

export type { EventValue } from "./key-state-codec.js";

/** One event as the streaming side holds it: event and created (arrival) times in µs, column values. */
export interface StateEvent {
  readonly ts: number;
  readonly cr: number;
  readonly values: Readonly<Record<string, EventValue>>;
}

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
 * The streaming form of an aggregation view's state for one entity key: per hop, the tiles
 * (partial aggregates) that some window may still need, and the raw events of open tiles.
 * Reading at t merges the whole tiles in [he - W, he) (he = floor(t / H) * H) with the head
 * tile's events before t: DESIGN.md's window contract, the same one the batch plan compiles to SQL.
 *
 * The state lives in one Float64Array in its stored layout (key-state-codec.ts), so storing it
 * is a byte copy, and 100k keys of ~50 tiles are a few hundred thousand objects for the garbage
 * collector rather than millions. Values that are not numbers sit in `others` by float index.
 */
export class KeyState {
  private constructor(
    private readonly layout: readonly GroupLayout[],
    private f: Float64Array,
    private used: number,
    private others: Map<number, EventValue>,
  ) {}

  static empty(groups: readonly HopGroup[]): KeyState {
    const layout = tileLayout(groups);
    return new KeyState(layout, new Float64Array(layout.length), layout.length, new Map());
  }

  /**
   * A state as stored: a whole state (`encode`), or a head (`encodeHead`) with the sealed part
   * (`encodeSealed`) cut at the same split, which it then requires.
   */
  static decode(groups: readonly HopGroup[], text: string, sealed?: string): KeyState {
    const layout = tileLayout(groups);
    const head = readSplit(text);
    let state = decodeFloats(layout, head.body);
    if (head.split !== undefined) {
      const part = sealed === undefined ? undefined : readSplit(sealed);
      if (part?.split !== head.split) throw new StorageError(`an aggregation state's sealed tiles ${part === undefined ? "are missing" : `were cut at ${part.split}, its head at ${head.split}`}`);
      state = joinTiles(layout, decodeFloats(layout, part.body), state);
    }
    return new KeyState(layout, state.floats, state.used, state.others);
  }

  /** The whole state as stored text. */
  encode(): string {
    return encodeFloats(this.floats);
  }

  /** The tiles not sealed at `split` (see key-state-split.ts), marked with it; the whole state when nothing is sealed (-Infinity). */
  encodeHead(split: number): string {
    return split === -Infinity ? this.encode() : withSplit(split, encodeTiles(this.layout, this.floats, (g, start) => !sealedAt(g, start, split)));
  }

  /** The tiles sealed at `split`, marked with it. */
  encodeSealed(split: number): string {
    return withSplit(split, encodeTiles(this.layout, this.floats, (g, start) => sealedAt(g, start, split)));
  }

  /** How many tiles `keep` selects (by group and start). */
  countTiles(keep: (g: GroupLayout, start: number) => boolean): number {
    let n = 0;
    let base = 0;
    for (const g of this.layout) {
      let at = base + 1;
      for (let k = this.f[base]!; k > 0; k--) {
        if (keep(g, this.f[at]!)) n++;
        at = this.tileEnd(g, at);
      }
      base = at;
    }
    return n;
  }

  private get floats(): StateFloats {
    return { floats: this.f, used: this.used, others: this.others };
  }

  add(event: StateEvent, watermark: number): void {
    let base = 0;
    for (const g of this.layout) {
      const start = floorTo(event.ts, g.hopMicros);
      let tile = -1;
      let at = base + 1;
      for (let k = this.f[base]!; k > 0; k--) {
        if (this.f[at] === start) tile = at;
        at = this.tileEnd(g, at);
      }
      const before = this.used;
      const open = start + g.hopMicros > watermark;
      const fresh = tile < 0;
      if (fresh) {
        tile = at;
        this.newTile(g, base, tile, start, open);
      }
      const f = this.f;
      f[tile + TILE.events]!++;
      f[tile + TILE.maxTs] = Math.max(f[tile + TILE.maxTs]!, event.ts);
      for (const c of g.columns) this.fold(tile, c, event.values[c.column] ?? null, event.ts, event.cr);
      if (open) this.appendRaw(g, tile, event, fresh);
      base = at + this.used - before; // the group's end, after what was inserted
    }
  }

  /** Drops what no read at or after the watermark needs: tiles before every window, raw events of closed tiles. */
  compact(watermark: number): void {
    let read = 0;
    let write = 0;
    for (const g of this.layout) {
      const oldest = floorTo(watermark, g.hopMicros) - g.longestWindowMicros;
      const countAt = write;
      let kept = 0;
      const count = this.f[read]!;
      this.move(read++, write++, 1);
      for (let k = 0; k < count; k++) {
        const end = this.tileEnd(g, read);
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
      this.f[countAt] = kept;
    }
    if (this.others.size > 0) for (const at of this.others.keys()) if (at >= write) this.others.delete(at);
    this.used = write;
  }

  get empty(): boolean {
    let base = 0;
    for (const g of this.layout) {
      if (this.f[base]! > 0) return false;
      base = this.groupEnd(g, base);
    }
    return true;
  }

  /** The aggregates' values at time t (µs): count 0 and null for the others on an empty window. */
  valuesAt(t: number): Record<string, EventValue> {
    const out: Record<string, EventValue> = {};
    let base = 0;
    for (const g of this.layout) {
      const he = floorTo(t, g.hopMicros);
      for (const a of g.aggregates) {
        const m: Merged = { n: 0, c: 0, s: 0, lo: null, hi: null, l: null, lt: NEVER, lc: NEVER };
        let at = base + 1;
        for (let k = this.f[base]!; k > 0; k--) {
          const start = this.f[at]!;
          if (start >= he - a.windowMicros && start < he) this.mergeTile(m, at, a.slots);
          else if (start === he) {
            if (this.f[at + TILE.rawCount]! >= 0 && this.f[at + TILE.maxTs]! >= t) this.mergeRaw(m, g.rawWidth, at + g.tileWidth, this.f[at + TILE.rawCount]!, a.slots, t);
            else this.mergeTile(m, at, a.slots);
          }
          at = this.tileEnd(g, at);
        }
        out[a.spec.name] = value(a.spec, m);
      }
      base = this.groupEnd(g, base);
    }
    return out;
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

  private tileEnd(g: GroupLayout, tile: number): number {
    return tileEnd(g, this.f, tile);
  }

  private groupEnd(g: GroupLayout, base: number): number {
    let at = base + 1;
    for (let k = this.f[base]!; k > 0; k--) at = this.tileEnd(g, at);
    return at;
  }

  /** Inserts an empty tile; an open one with room for its first raw event (one move of what follows, not two), which `appendRaw` must fill next. */
  private newTile(g: GroupLayout, base: number, at: number, start: number, open: boolean): void {
    this.insert(at, g.tileWidth + (open ? g.rawWidth : 0));
    const f = this.f;
    f[base]!++;
    f[at + TILE.start] = start;
    f[at + TILE.events] = 0;
    f[at + TILE.maxTs] = -Infinity;
    f[at + TILE.rawCount] = open ? 0 : -1;
    for (const c of g.columns) {
      f[at + c.count] = 0;
      if (c.sum >= 0) f[at + c.sum] = 0;
      if (c.min >= 0) f[at + c.min] = NaN;
      if (c.max >= 0) f[at + c.max] = NaN;
      if (c.last >= 0) f.set([NaN, NEVER, NEVER], at + c.last);
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
  private appendRaw(g: GroupLayout, tile: number, event: StateEvent, roomMade: boolean): void {
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
  private mergeRaw(m: Merged, rawWidth: number, at: number, count: number, slots: ColumnSlots | undefined, t: number): void {
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
      const grown = new Float64Array(Math.max(64, Math.ceil((this.used + width) * 1.5)));
      grown.set(this.f); // all of it (it is smaller): a subarray view cost more than the floats past `used`
      this.f = grown;
    }
    this.f.copyWithin(at + width, at, this.used);
    this.used += width;
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

function value(a: AggregateSpec, m: Merged): EventValue {
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
