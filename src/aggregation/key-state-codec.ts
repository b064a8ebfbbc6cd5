import { StorageError } from "../errors.js";
import type { ColumnPartials, HopGroup } from "./tile-partials.js";
import type { ColumnTile, EventValue, StateEvent, Tile } from "./tile-state.js";

/** Tiles by start (µs), per hop (seconds): a key's whole state. */
export type HopTiles = Map<number, Map<number, Tile>>;

/** Before any time (a last value's times when there is none). */
export const NEVER = -Number.MAX_VALUE;

/**
 * A key's state as stored text: its numbers as the base64 of little-endian float64s, then, after
 * a `|`, a JSON list of [slot, value] for each slot holding something else (text, a boolean, a
 * null), whose float is NaN. Per hop group: the tile count, then per tile its start, event count,
 * max event time and raw event count (-1: closed), per column its count and the partials the
 * group's aggregates need (sum; min; max; last with its time and created time), then the raw
 * events as [time, created, ...column values].
 * Formatting thousands of numbers as JSON text was most of a streaming commit's cost; copying
 * their bytes is not.
 */
export function encodeHopTiles(groups: readonly HopGroup[], hops: HopTiles): string {
  let size = 0;
  for (const g of groups) {
    size++;
    const partials = g.columns.reduce((n, c) => n + width(c), 0);
    for (const tile of hops.get(g.hopSeconds)!.values()) size += 4 + partials + (tile.raw?.length ?? 0) * (2 + g.columns.length);
  }
  const f = new Float64Array(size);
  const other: [number, EventValue][] = [];
  let i = 0;
  const put = (v: EventValue): void => {
    if (typeof v === "number" && !Number.isNaN(v)) f[i++] = v;
    else {
      other.push([i, v]);
      f[i++] = NaN;
    }
  };
  for (const g of groups) {
    const tiles = hops.get(g.hopSeconds)!;
    f[i++] = tiles.size;
    for (const [start, tile] of tiles) {
      f[i++] = start;
      f[i++] = tile.n;
      f[i++] = tile.maxTs;
      f[i++] = tile.raw?.length ?? -1;
      for (const p of g.columns) {
        const c = tile.cols[p.column];
        f[i++] = c?.c ?? 0;
        if (p.sum) f[i++] = c?.s ?? 0;
        if (p.min) put(c?.lo ?? null);
        if (p.max) put(c?.hi ?? null);
        if (p.last) {
          put(c?.l ?? null);
          f[i++] = c?.lt ?? NEVER;
          f[i++] = c?.lc ?? NEVER;
        }
      }
      for (const e of tile.raw ?? []) {
        f[i++] = e.ts;
        f[i++] = e.cr;
        for (const { column } of g.columns) put(e.values[column] ?? null);
      }
    }
  }
  const numbers = Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString("base64");
  return other.length === 0 ? numbers : `${numbers}|${JSON.stringify(other)}`;
}

/** Floats per column of a tile: the count, and what the aggregates need. */
const width = (p: ColumnPartials): number => 1 + Number(p.sum) + Number(p.min) + Number(p.max) + 3 * Number(p.last);

/** The inverse of encodeHopTiles, for the same hop groups. */
export function decodeHopTiles(groups: readonly HopGroup[], text: string): HopTiles {
  // Base64 never starts with "{": JSON is the format of Strata before 2026-11, which this cannot read.
  if (text.startsWith("{")) throw new StorageError("an aggregation view's stored state is in an earlier format: delete the view version's online records and its stream checkpoint, then let `strata stream run` replay the stream");
  const bar = text.indexOf("|");
  const bytes = Buffer.from(bar < 0 ? text : text.slice(0, bar), "base64");
  const f = new Float64Array(bytes.length / 8);
  new Uint8Array(f.buffer).set(bytes);
  const other = new Map<number, EventValue>(bar < 0 ? [] : (JSON.parse(text.slice(bar + 1)) as [number, EventValue][]));
  let i = 0;
  const next = (): number => f[i++]!;
  const take = (): EventValue => {
    const at = i++;
    const v = f[at]!;
    return Number.isNaN(v) ? (other.get(at) ?? null) : v;
  };
  const hops: HopTiles = new Map();
  for (const g of groups) {
    const tiles = new Map<number, Tile>();
    for (let count = next(); count > 0; count--) {
      const start = next();
      const tile: Tile = { n: next(), maxTs: next(), cols: {} };
      const rawCount = next();
      for (const p of g.columns) {
        const c = next();
        const col: ColumnTile = { c, s: p.sum ? next() : 0, lo: p.min ? take() : null, hi: p.max ? take() : null, l: null, lt: NEVER, lc: NEVER };
        if (p.last) Object.assign(col, { l: take(), lt: next(), lc: next() });
        if (c > 0) tile.cols[p.column] = col;
      }
      if (rawCount >= 0) {
        const raw: StateEvent[] = [];
        for (let r = 0; r < rawCount; r++) {
          const ts = next();
          const cr = next();
          const values: Record<string, EventValue> = {};
          for (const { column } of g.columns) values[column] = take();
          raw.push({ ts, cr, values });
        }
        tile.raw = raw;
      }
      tiles.set(start, tile);
    }
    hops.set(g.hopSeconds, tiles);
  }
  if (i !== f.length) throw new Error(`a stored aggregation state does not match the view's tiles (${f.length} numbers, ${i} read)`);
  return hops;
}
