import type { AggregateSpec } from "../../src/definitions/specs.js";

/** One event as the oracle sees it: key, event and created times (µs), column values. */
export interface OracleEvent {
  readonly key: string;
  readonly ts: number;
  readonly cr: number;
  readonly values: Readonly<Record<string, number | string | null>>;
}

const floorTo = (x: number, step: number): number => x - (((x % step) + step) % step);

/**
 * DESIGN.md's window contract, by brute force over every event (no tiles, no SQL): the events of
 * `key` with floor((t - W) / H) * H <= ts < t (and, as of ingestion, created <= t); nulls skipped;
 * empty → count 0, others null; last → greatest (ts, created).
 */
export function windowValue(events: readonly OracleEvent[], key: string, t: number, a: AggregateSpec, asOfIngestion = false): number | string | null {
  const inWindow = windowEvents(events, key, t, a, asOfIngestion);
  if (a.column === null) return inWindow.length;
  const present = nonNull(inWindow, a.column);
  const values = present.map((e) => e.values[a.column!]!);
  if (a.function === "count") return values.length;
  if (values.length === 0) return null;
  switch (a.function) {
    case "sum":
      return (values as number[]).reduce((s, v) => s + v, 0);
    case "mean":
      return (values as number[]).reduce((s, v) => s + v, 0) / values.length;
    case "min":
      return values.reduce((m, v) => (v < m ? v : m));
    case "max":
      return values.reduce((m, v) => (v > m ? v : m));
    case "last":
      return lastOf(present)!.values[a.column]!;
  }
}

/** The events of `key` in the window of `a` at t: floor((t - W) / H) * H <= ts < t (and, as of ingestion, created <= t). */
function windowEvents(events: readonly OracleEvent[], key: string, t: number, a: AggregateSpec, asOfIngestion: boolean): OracleEvent[] {
  const start = floorTo(t - a.windowSeconds * 1e6, a.hopSeconds * 1e6);
  return events.filter((e) => e.key === key && e.ts >= start && e.ts < t && (!asOfIngestion || e.cr <= t));
}

const nonNull = (events: readonly OracleEvent[], column: string): OracleEvent[] => events.filter((e) => e.values[column] !== null && e.values[column] !== undefined);

/** The event with the greatest (ts, created), the first of any fully tied. */
const lastOf = (events: readonly OracleEvent[]): OracleEvent | undefined => events.reduce<OracleEvent | undefined>((w, e) => (w === undefined || e.ts > w.ts || (e.ts === w.ts && e.cr > w.cr) ? e : w), undefined);

/**
 * For a last aggregate, the values of every event tied with the winner on both event and
 * created time (duplicate rows in a file): the contract ranks them no further, so any one is
 * right. One value, or none, when there is no such tie.
 */
export function lastTies(events: readonly OracleEvent[], key: string, t: number, a: AggregateSpec, asOfIngestion = false): (number | string)[] {
  const column = a.column;
  if (a.function !== "last" || column === null) return [];
  const present = nonNull(windowEvents(events, key, t, a, asOfIngestion), column);
  const top = lastOf(present);
  return present.filter((e) => e.ts === top?.ts && e.cr === top.cr).map((e) => e.values[column]!);
}

/** Equal as the contract asks: exact for counts, integers and strings; floats within 1e-9 of the magnitude summed. */
export function sameValue(actual: unknown, expected: number | string | null, scale: number): boolean {
  const a = typeof actual === "bigint" ? Number(actual) : actual;
  if (expected === null || a === null || a === undefined) return (a ?? null) === expected;
  if (typeof expected === "number" && typeof a === "number") return a === expected || Math.abs(a - expected) <= 1e-9 * Math.max(Math.abs(expected), scale);
  return a === expected;
}
