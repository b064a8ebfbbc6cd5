import type { ProgressListener } from "../util/progress.js";

/**
 * Draws long work on stderr when it is a terminal: phase, a bar when the engine reports a
 * percentage, elapsed time. Silent otherwise (scripts read the summary instead).
 */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): { listener: ProgressListener; done: () => void } {
  if (!stream.isTTY) return { listener: () => undefined, done: () => undefined };
  const started = performance.now();
  let last = "";
  const listener: ProgressListener = ({ phase, percent }) => {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const bar = percent === undefined ? "" : ` [${"#".repeat(Math.round(percent / 5)).padEnd(20, ".")}] ${percent.toFixed(0).padStart(3)}%`;
    const text = `${phase}${bar} ${seconds}s`;
    if (text !== last) stream.write(`\r\x1b[2K${text}`);
    last = text;
  };
  return { listener, done: () => (last === "" ? undefined : void stream.write("\r\x1b[2K")) };
}
