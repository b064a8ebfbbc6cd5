import type { ProgressListener } from "../util/progress.js";

/** How often the line is redrawn, so elapsed time moves even while a phase reports nothing (ms). */
const REDRAW_MS = 250;

/**
 * Draws long work on stderr when it is a terminal: phase, a bar when the engine reports a
 * percentage, elapsed time. Silent otherwise (scripts read the summary instead).
 */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): { listener: ProgressListener; done: () => void } {
  if (!stream.isTTY) return { listener: () => undefined, done: () => undefined };
  const started = performance.now();
  let current: { phase: string; percent?: number } | undefined;
  const draw = (): void => {
    if (current === undefined) return;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const { phase, percent } = current;
    const bar = percent === undefined ? "" : ` [${"#".repeat(Math.round(percent / 5)).padEnd(20, ".")}] ${percent.toFixed(0).padStart(3)}%`;
    stream.write(`\r\x1b[2K${phase}${bar} ${seconds}s`);
  };
  const timer = setInterval(draw, REDRAW_MS).unref();
  const listener: ProgressListener = (event) => {
    current = event.phase === current?.phase && event.percent === undefined ? { ...event, percent: current.percent } : event;
    draw();
  };
  const done = (): void => {
    clearInterval(timer);
    if (current !== undefined) stream.write("\r\x1b[2K");
  };
  return { listener, done };
}
