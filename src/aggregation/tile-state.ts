import { StorageError } from "../errors.js";
import { decodeFloats, encodeFloats, type EventValue, type StateFloats } from "./key-state-codec.js";
import { encodeTiles, joinTiles, readSplit, sealedAt, withSplit } from "./key-state-split.js";
import { GroupTiles, type StateEvent } from "./group-tiles.js";
import { groupEnd, tileLayout, type GroupLayout } from "./tile-layout.js";
import type { HopGroup } from "./tile-partials.js";

export type { EventValue } from "./key-state-codec.js";
export type { StateEvent } from "./group-tiles.js";

/**
 * The streaming form of an aggregation view's state for one entity key: per hop, the tiles
 * (partial aggregates) that some window may still need, and the raw events of open tiles.
 * Reading at t merges the whole tiles in [he - W, he) (he = floor(t / H) * H) with the head
 * tile's events before t: DESIGN.md's window contract, the same one the batch plan compiles to SQL.
 *
 * Each hop group's tiles live in one Float64Array in their stored layout (group-tiles.ts), so
 * storing a state is a byte copy, and 100k keys of ~50 tiles are a few hundred thousand objects
 * for the garbage collector rather than millions.
 */
export class KeyState {
  private constructor(
    private readonly layout: readonly GroupLayout[],
    private readonly groups: readonly GroupTiles[],
  ) {}

  static empty(groups: readonly HopGroup[]): KeyState {
    const layout = tileLayout(groups);
    return new KeyState(layout, layout.map((g) => GroupTiles.empty(g)));
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
    return new KeyState(layout, splitGroups(layout, state));
  }

  /** The whole state as stored text. */
  encode(): string {
    return encodeFloats(this.floats);
  }

  /** The tiles not sealed at `split` (see key-state-split.ts), marked with it; the whole state when nothing is sealed (-Infinity). */
  encodeHead(split: number): string {
    return split === -Infinity ? this.encode() : withSplit(split, encodeTiles(this.layout, this.groupFloats, (g, start) => !sealedAt(g, start, split)));
  }

  /** The tiles sealed at `split`, marked with it. */
  encodeSealed(split: number): string {
    return withSplit(split, encodeTiles(this.layout, this.groupFloats, (g, start) => sealedAt(g, start, split)));
  }

  /** How many tiles `keep` selects (by group and start). */
  countTiles(keep: (g: GroupLayout, start: number) => boolean): number {
    let n = 0;
    for (const group of this.groups) n += group.countTiles(keep);
    return n;
  }

  private get groupFloats(): StateFloats[] {
    return this.groups.map((group) => group.floats);
  }

  /** The groups' floats one after the other: the stored layout. */
  private get floats(): StateFloats {
    const parts = this.groupFloats;
    if (parts.length === 1) return parts[0]!;
    const used = parts.reduce((n, part) => n + part.used, 0);
    if (joined.length < used) joined = new Float64Array(2 * used);
    let others: Map<number, EventValue> | undefined;
    let at = 0;
    for (const part of parts) {
      joined.set(part.floats.subarray(0, part.used), at);
      if (part.others.size > 0) for (const [i, v] of part.others) (others ??= new Map()).set(at + i, v);
      at += part.used;
    }
    return { floats: joined, used, others: others ?? NONE };
  }

  add(event: StateEvent, watermark: number): void {
    for (const group of this.groups) group.add(event, watermark);
  }

  /** Gives its floats back to the pool (see float-pool.ts), once the state is dropped: it must not be used after. */
  release(): void {
    for (const group of this.groups) group.release();
  }

  /** Drops what no read at or after the watermark needs: tiles before every window, raw events of closed tiles. */
  compact(watermark: number): void {
    for (const group of this.groups) group.compact(watermark);
  }

  get empty(): boolean {
    return this.groups.every((group) => group.empty);
  }

  /** The aggregates' values at time t (µs): count 0 and null for the others on an empty window. */
  valuesAt(t: number): Record<string, EventValue> {
    const out: Record<string, EventValue> = {};
    for (const group of this.groups) group.valuesAt(t, out);
    return out;
  }
}

/** Reused to join the groups for encoding a whole state (encoding makes text of them at once). */
let joined = new Float64Array(1024);
const NONE: ReadonlyMap<number, EventValue> = new Map();

/**
 * A decoded state cut into its groups' parts: views of its floats, not copies (online reads
 * decode a state per request); a group's first insert moves it to an array of its own.
 */
function splitGroups(layout: readonly GroupLayout[], state: StateFloats): GroupTiles[] {
  let at = 0;
  return layout.map((g) => {
    const from = at;
    at = groupEnd(g, state.floats, from);
    const others = new Map<number, EventValue>();
    if (state.others.size > 0) for (const [i, v] of state.others) if (i >= from && i < at) others.set(i - from, v);
    return new GroupTiles(g, state.floats.subarray(from, at), at - from, others);
  });
}
