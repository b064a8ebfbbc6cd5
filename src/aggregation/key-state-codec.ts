import { StorageError } from "../errors.js";
import { tileEnd, type GroupLayout } from "./tile-layout.js";

export type EventValue = number | string | boolean | null;

/** Before any time (a last value's times when there is none). */
export const NEVER = -Number.MAX_VALUE;

/** A key's state as floats (see `encodeFloats`) and the values that are not numbers, by float index. */
export interface StateFloats {
  readonly floats: Float64Array;
  readonly used: number;
  readonly others: ReadonlyMap<number, EventValue>;
}

/**
 * A key's state as stored text: its floats as the base64 of little-endian float64s, then, after
 * a `|`, a JSON list of [index, value] for each float standing for text or a boolean (the float
 * is NaN; a NaN without an entry is a null). Per hop group: the tile count, then per tile its
 * start, event count, max event time and raw event count (-1: closed), per column its count and
 * the partials the group's aggregates need (sum; min; max; last with its time and created time),
 * then the raw events as [time, created, ...column values].
 * Formatting thousands of numbers as JSON text was most of a streaming commit's cost; copying
 * their bytes is not, and the state is held in memory in this very layout.
 */
export function encodeFloats({ floats, used, others }: StateFloats): string {
  const numbers = Buffer.from(floats.buffer, floats.byteOffset, used * 8).toString("base64");
  return others.size === 0 ? numbers : `${numbers}|${JSON.stringify([...others])}`;
}

/** The inverse of encodeFloats, checked against the view's tile layout. */
export function decodeFloats(layout: readonly GroupLayout[], text: string): StateFloats & { readonly others: Map<number, EventValue> } {
  // Base64 never starts with "{": JSON is the format of Strata before 2026-11, which this cannot read.
  if (text.startsWith("{")) throw new StorageError("an aggregation view's stored state is in an earlier format: delete the view version's online records and its stream checkpoint, then let `strata stream run` replay the stream");
  const bar = text.indexOf("|");
  const bytes = Buffer.from(bar < 0 ? text : text.slice(0, bar), "base64");
  const floats = new Float64Array(bytes.length / 8);
  new Uint8Array(floats.buffer).set(bytes);
  const others = new Map<number, EventValue>();
  // Entries for nulls (older encodings wrote them) are left out: a NaN without an entry is a null.
  if (bar >= 0) for (const [at, value] of JSON.parse(text.slice(bar + 1)) as [number, EventValue][]) if (value !== null) others.set(at, value);
  const end = skipGroups(layout, floats);
  if (end !== floats.length) throw new Error(`a stored aggregation state does not match the view's tiles (${floats.length} numbers, ${end} read)`);
  return { floats, used: floats.length, others };
}

/** The index after the groups' tiles, walking the layout (NaN or beyond the end when the floats do not fit it). */
function skipGroups(layout: readonly GroupLayout[], floats: Float64Array): number {
  let at = 0;
  for (const g of layout) {
    const count = floats[at++] ?? NaN;
    if (!(count >= 0)) return NaN;
    // Past the end, a tile's raw count reads undefined and the index becomes NaN.
    for (let k = 0; k < count && at < floats.length; k++) at = tileEnd(g, floats, at);
  }
  return at;
}
