import type { AggregateSpec } from "../definitions/specs.js";
import type { HopGroup } from "./tile-partials.js";

/** Where a column's partials sit in a tile, from the tile's first float; -1: the group does not keep it. */
export interface ColumnSlots {
  readonly column: string;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  /** The last value, then its event time and created time. */
  readonly last: number;
  /** The column's value in a raw event, from the event's first float. */
  readonly raw: number;
}

export interface GroupLayout {
  readonly group: HopGroup;
  readonly hopMicros: number;
  readonly longestWindowMicros: number;
  /** Floats per tile before its raw events: start, event count, max event time, raw event count (-1: closed), partials. */
  readonly tileWidth: number;
  /** Floats per raw event: event time, created time, one value per column. */
  readonly rawWidth: number;
  readonly columns: readonly ColumnSlots[];
  readonly aggregates: readonly { readonly spec: AggregateSpec; readonly windowMicros: number; readonly slots: ColumnSlots | undefined }[];
}

/** The tile header: start, event count, max event time, raw event count. */
export const TILE = { start: 0, events: 1, maxTs: 2, rawCount: 3, header: 4 } as const;

/** The index after the tile at `tile` in a state's floats: its header and partials, then its raw events (a closed tile, -1, has none). */
export const tileEnd = (g: GroupLayout, floats: ArrayLike<number>, tile: number): number => tile + g.tileWidth + Math.max(0, floats[tile + TILE.rawCount]!) * g.rawWidth;

/** The index after the group whose tile count is at `base`: its tiles walked in order. */
export function groupEnd(g: GroupLayout, floats: ArrayLike<number>, base: number): number {
  let at = base + 1;
  for (let k = floats[base]!; k > 0; k--) at = tileEnd(g, floats, at);
  return at;
}

const layouts = new WeakMap<readonly HopGroup[], readonly GroupLayout[]>();

/**
 * The float layout of a key's state for a view's hop groups (see key-state-codec.ts), computed
 * once per groups array: the state is kept in memory exactly as it is stored.
 */
export function tileLayout(groups: readonly HopGroup[]): readonly GroupLayout[] {
  let layout = layouts.get(groups);
  if (layout === undefined) layouts.set(groups, (layout = groups.map(groupLayout)));
  return layout;
}

function groupLayout(group: HopGroup): GroupLayout {
  let at: number = TILE.header;
  const take = (kept: boolean, width = 1): number => (kept ? ((at += width), at - width) : -1);
  const columns = group.columns.map((p, i): ColumnSlots => ({ column: p.column, count: take(true), sum: take(p.sum), min: take(p.min), max: take(p.max), last: take(p.last, 3), raw: 2 + i }));
  const aggregates = group.aggregates.map((spec) => ({ spec, windowMicros: spec.windowSeconds * 1e6, slots: columns.find((c) => c.column === spec.column) }));
  return { group, hopMicros: group.hopSeconds * 1e6, longestWindowMicros: group.longestWindowSeconds * 1e6, tileWidth: at, rawWidth: 2 + columns.length, columns, aggregates };
}
