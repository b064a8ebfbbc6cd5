import type { AggregateSpec } from "../definitions/specs.js";
import { decodeHopTiles, encodeHopTiles, NEVER, type HopTiles } from "./key-state-codec.js";
import type { HopGroup } from "./tile-partials.js";

export type EventValue = number | string | boolean | null;

/** One event as the streaming side holds it: event and created (arrival) times in µs, column values. */
export interface StateEvent {
  readonly ts: number;
  readonly cr: number;
  readonly values: Readonly<Record<string, EventValue>>;
}

/** Per column: non-null count, sum, min, max, and the last value with its (ts, cr). */
export interface ColumnTile {
  c: number;
  s: number;
  lo: EventValue;
  hi: EventValue;
  l: EventValue;
  lt: number;
  lc: number;
}

export interface Tile {
  n: number;
  maxTs: number;
  cols: Record<string, ColumnTile>;
  /** The tile's events while it is open (the watermark has not passed its end), so reads at a t inside it are exact. */
  raw?: StateEvent[];
}

const floorTo = (x: number, step: number): number => x - (((x % step) + step) % step);
const later = (ts: number, cr: number, than: { lt: number; lc: number }): boolean => ts > than.lt || (ts === than.lt && cr > than.lc);

function foldColumn(col: ColumnTile | undefined, v: EventValue, ts: number, cr: number): ColumnTile {
  const t = col ?? { c: 0, s: 0, lo: null, hi: null, l: null, lt: NEVER, lc: NEVER };
  if (v === null) return t;
  t.c++;
  if (typeof v === "number") t.s += v;
  if (t.lo === null || v < t.lo) t.lo = v;
  if (t.hi === null || v > t.hi) t.hi = v;
  if (later(ts, cr, t)) Object.assign(t, { l: v, lt: ts, lc: cr });
  return t;
}

function mergeColumn(into: ColumnTile | undefined, from: ColumnTile): ColumnTile {
  if (into === undefined) return { ...from };
  into.c += from.c;
  into.s += from.s;
  if (from.lo !== null && (into.lo === null || from.lo < into.lo)) into.lo = from.lo;
  if (from.hi !== null && (into.hi === null || from.hi > into.hi)) into.hi = from.hi;
  if (from.c > 0 && later(from.lt, from.lc, into)) Object.assign(into, { l: from.l, lt: from.lt, lc: from.lc });
  return into;
}

/**
 * The streaming form of an aggregation view's state for one entity key: per hop, the tiles
 * (partial aggregates) that some window may still need. Reading at t merges the whole tiles in
 * [he - W, he) (he = floor(t / H) * H) with the head tile's events before t: DESIGN.md's window
 * contract, the same one the batch plan compiles to SQL.
 */
export class KeyState {
  private constructor(
    private readonly groups: readonly HopGroup[],
    private readonly hops: HopTiles,
  ) {}

  static empty(groups: readonly HopGroup[]): KeyState {
    return new KeyState(groups, new Map(groups.map((g) => [g.hopSeconds, new Map<number, Tile>()])));
  }

  /** A state as `encode` stored it (see key-state-codec.ts). */
  static decode(groups: readonly HopGroup[], text: string): KeyState {
    return new KeyState(groups, decodeHopTiles(groups, text));
  }

  encode(): string {
    return encodeHopTiles(this.groups, this.hops);
  }

  add(event: StateEvent, watermark: number): void {
    for (const g of this.groups) {
      const hop = g.hopSeconds * 1e6;
      const start = floorTo(event.ts, hop);
      const tiles = this.hops.get(g.hopSeconds)!;
      let tile = tiles.get(start);
      if (tile === undefined) tiles.set(start, (tile = { n: 0, maxTs: -Infinity, cols: {} }));
      tile.n++;
      tile.maxTs = Math.max(tile.maxTs, event.ts);
      for (const c of g.columns) tile.cols[c.column] = foldColumn(tile.cols[c.column], event.values[c.column] ?? null, event.ts, event.cr);
      if (start + hop > watermark) (tile.raw ??= []).push(event);
    }
  }

  /** Drops what no read at or after the watermark needs: tiles before every window, raw events of closed tiles. */
  compact(watermark: number): void {
    for (const g of this.groups) {
      const hop = g.hopSeconds * 1e6;
      const oldest = floorTo(watermark, hop) - g.longestWindowSeconds * 1e6;
      const tiles = this.hops.get(g.hopSeconds)!;
      for (const [start, tile] of tiles) {
        if (start < oldest) tiles.delete(start);
        else if (start + hop <= watermark) delete tile.raw;
      }
    }
  }

  get empty(): boolean {
    return [...this.hops.values()].every((t) => t.size === 0);
  }

  /** The aggregates' values at time t (µs): count 0 and null for the others on an empty window. */
  valuesAt(t: number): Record<string, EventValue> {
    const out: Record<string, EventValue> = {};
    for (const g of this.groups) {
      const hop = g.hopSeconds * 1e6;
      const he = floorTo(t, hop);
      const tiles = this.hops.get(g.hopSeconds)!;
      const headTile = tiles.get(he);
      const head = headTile === undefined ? undefined : headTile.raw === undefined || headTile.maxTs < t ? headTile : foldEvents(headTile.raw.filter((e) => e.ts < t), g);
      for (const a of g.aggregates) out[a.name] = value(a, mergeWindow(tiles, he - a.windowSeconds * 1e6, he, head));
    }
    return out;
  }
}

function foldEvents(events: readonly StateEvent[], g: HopGroup): Tile {
  const tile: Tile = { n: 0, maxTs: -Infinity, cols: {} };
  for (const e of events) {
    tile.n++;
    for (const c of g.columns) tile.cols[c.column] = foldColumn(tile.cols[c.column], e.values[c.column] ?? null, e.ts, e.cr);
  }
  return tile;
}

function mergeWindow(tiles: ReadonlyMap<number, Tile>, from: number, to: number, head: Tile | undefined): Tile {
  const merged: Tile = { n: 0, maxTs: -Infinity, cols: {} };
  const add = (tile: Tile): void => {
    merged.n += tile.n;
    for (const [c, col] of Object.entries(tile.cols)) merged.cols[c] = mergeColumn(merged.cols[c], col);
  };
  for (const [start, tile] of tiles) if (start >= from && start < to) add(tile);
  if (head !== undefined) add(head);
  return merged;
}

function value(a: AggregateSpec, w: Tile): EventValue {
  if (a.column === null) return w.n;
  const col = w.cols[a.column];
  if (a.function === "count") return col?.c ?? 0;
  if (col === undefined || col.c === 0) return null;
  switch (a.function) {
    case "sum":
      return col.s;
    case "mean":
      return col.s / col.c;
    case "min":
      return col.lo;
    case "max":
      return col.hi;
    case "last":
      return col.l;
  }
}
