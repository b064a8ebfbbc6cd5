import { StorageError } from "../errors.js";
import { encodeFloats, type EventValue, type StateFloats } from "./key-state-codec.js";
import { groupEnd, tileEnd, type GroupLayout } from "./tile-layout.js";

/**
 * A key's state is stored in two parts, so that a stream commit rewrites only what changed:
 * the sealed tiles (closed before a split time: no event can change them any more), written
 * rarely, and the head (every other tile), written on each commit. Both are states in the
 * ordinary layout (key-state-codec.ts); the head's stored text starts with the split it was cut
 * at (`@<split µs>;`), and so does the sealed part's, so a reader can check that they belong together.
 */
export const SPLIT_MARK = "@";

/** A tile is sealed at `split` when it ended at or before it. */
export const sealedAt = (g: GroupLayout, start: number, split: number): boolean => start + g.hopMicros <= split;

/** Prefixes a stored part with its split. */
export const withSplit = (split: number, text: string): string => `${SPLIT_MARK}${split};${text}`;

/** A stored part's split (undefined: a whole state, never split) and the state text after it. */
export function readSplit(text: string): { split: number | undefined; body: string } {
  if (!text.startsWith(SPLIT_MARK)) return { split: undefined, body: text };
  const end = text.indexOf(";");
  const split = end < 0 ? NaN : Number(text.slice(1, end));
  if (!Number.isSafeInteger(split)) throw new StorageError(`a stored aggregation state has a malformed split marker (${text.slice(0, 24)})`);
  return { split, body: text.slice(end + 1) };
}

/** Reused by encodeTiles: a head is cut from every changed key at every commit, and a fresh array per cut cost more than the copy. */
let scratch = new Float64Array(1024);
const NONE: ReadonlyMap<number, EventValue> = new Map();

/**
 * The tiles that `keep` selects (by group and tile start), in order, as stored text
 * (encodeFloats), from each group's own floats (`groups[i]` in `layout[i]`'s layout, starting
 * with its tile count): cut from the groups as they are, not from a copy of them joined first.
 */
export function encodeTiles(layout: readonly GroupLayout[], groups: readonly StateFloats[], keep: (g: GroupLayout, start: number) => boolean): string {
  const size = groups.reduce((n, group) => n + group.used, 0);
  if (scratch.length < size) scratch = new Float64Array(size * 2);
  const out = scratch;
  let others: Map<number, EventValue> | undefined;
  let write = 0;
  layout.forEach((g, p) => {
    const { floats, others: held } = groups[p]!;
    const countAt = write++;
    let kept = 0;
    let read = 1;
    for (let k = floats[0]!; k > 0; k--) {
      const end = tileEnd(g, floats, read);
      if (keep(g, floats[read]!)) {
        // A loop, not set(subarray()): tiles are a few floats, and a view per tile cost more than the copy.
        for (let i = read; i < end; i++) out[write + i - read] = floats[i]!;
        if (held.size > 0) for (let i = read; i < end; i++) if (held.has(i)) (others ??= new Map()).set(write + i - read, held.get(i)!);
        write += end - read;
        kept++;
      }
      read = end;
    }
    out[countAt] = kept;
  });
  return encodeFloats({ floats: out, used: write, others: others ?? NONE });
}

/** The tiles of `a` then those of `b`, group by group (a sealed part and its head: disjoint tiles). */
export function joinTiles(layout: readonly GroupLayout[], a: StateFloats, b: StateFloats): StateFloats & { readonly others: Map<number, EventValue> } {
  const out = new Float64Array(a.used + b.used - layout.length);
  const others = new Map<number, EventValue>();
  const at = [0, 0];
  let write = 0;
  for (const g of layout) {
    const countAt = write++;
    let count = 0;
    [a, b].forEach((part, p) => {
      const tiles = part.floats[at[p]!]!;
      const from = at[p]! + 1;
      const read = groupEnd(g, part.floats, at[p]!);
      out.set(part.floats.subarray(from, read), write);
      if (part.others.size > 0) for (const [i, v] of part.others) if (i >= from && i < read) others.set(write + i - from, v);
      write += read - from;
      count += tiles;
      at[p] = read;
    });
    out[countAt] = count;
  }
  return { floats: out, used: write, others };
}
