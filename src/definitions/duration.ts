/**
 * Durations as written in definitions: "90s", "15m", "2h", "7d", "1w", combinations such
 * as "1d12h", or a number of seconds. Stored in the registry as whole seconds.
 *
 * @example
 * parseDuration("1d12h"); // 129600
 * formatDuration(129600); // "1d12h"
 */
const unitSeconds = { w: 604_800, d: 86_400, h: 3_600, m: 60, s: 1 } as const;
const pattern = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

export type DurationInput = string | number;

/** Returns whole seconds, or an error message describing why the input is not a duration. */
export function parseDuration(input: DurationInput): { seconds: number } | { error: string } {
  if (typeof input === "number") {
    return Number.isInteger(input) && input >= 0 ? { seconds: input } : { error: `bad duration ${input}: expected a whole, non-negative number of seconds` };
  }
  const text = input.trim();
  const match = pattern.exec(text);
  if (text === "" || match === null) {
    return { error: `bad duration "${input}": expected e.g. "90s", "15m", "2h", "7d", "1w" or "1d12h"` };
  }
  const [, w, d, h, m, s] = match;
  const seconds = [w, d, h, m, s].reduce((sum, part, i) => sum + Number(part ?? 0) * Object.values(unitSeconds)[i]!, 0);
  return { seconds };
}

/** `weeks: false` writes "7d" rather than "1w" (as aggregate names spell windows). */
export function formatDuration(seconds: number, options: { weeks?: boolean } = {}): string {
  if (seconds === 0) return "0s";
  let rest = seconds;
  let text = "";
  for (const [unit, size] of Object.entries(unitSeconds)) {
    if (unit === "w" && (options.weeks === false || rest % size !== 0)) continue; // "10d" reads better than "1w3d"
    const count = Math.floor(rest / size);
    if (count > 0) {
      text += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return text;
}
