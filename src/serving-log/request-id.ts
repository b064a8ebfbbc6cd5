import { randomBytes } from "node:crypto";

/** Distinguishes this process's ids from every other server's (with the counter: unique without coordination). */
const processTag = randomBytes(4).toString("hex");
let counter = 0;
let prefixMs = -1;
let prefix = "";

/**
 * A request id that starts with its time, `<epoch ms, base 36>-<process tag><counter, base 36>`,
 * so the serving log's date partition of a request follows from its id alone.
 *
 * @example
 * newRequestId(1714557600000); // "lvmr5c00-9f3a1b2c1"
 */
export function newRequestId(nowMs: number): string {
  // Many requests share a millisecond: their common start is formatted once.
  if (nowMs !== prefixMs) {
    prefixMs = nowMs;
    prefix = `${nowMs.toString(36)}-${processTag}`;
  }
  return prefix + (++counter).toString(36);
}

/** The time (epoch ms) a request id was made at; undefined when the text is not such an id. */
export function requestIdTime(id: string): number | undefined {
  const match = /^([0-9a-z]{1,11})-[0-9a-z]+$/.exec(id);
  if (match === null) return undefined;
  const ms = Number.parseInt(match[1]!, 36);
  return Number.isSafeInteger(ms) && ms <= 8.64e15 ? ms : undefined;
}
