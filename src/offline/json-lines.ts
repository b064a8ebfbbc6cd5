import { open } from "node:fs/promises";
import type { LineBatch } from "./line-batch.js";

/**
 * A writer of one JSON object per line with these keys, from values given in the same order
 * (what DuckDB's read_json takes), straight into a LineBatch: pre-quoted keys, numbers as
 * digits. Building an object per row to stringify it, and later a string per line, were most
 * of the cost of appending a stream's events.
 *
 * @example
 * const batch = new LineBatch();
 * jsonLine(["id", "ts"])(batch, [7n, 1_700_000_000_000_000]);
 * Buffer.concat(batch.chunks()).toString(); // '{"id":"7","ts":1700000000000000}\n'
 */
export function jsonLine(names: readonly string[]): (batch: LineBatch, values: readonly unknown[]) => void {
  const prefixes = names.map((name, i) => `${i === 0 ? "{" : ","}${JSON.stringify(name)}:`);
  return (batch, values) => {
    if (names.length === 0) batch.text("{");
    for (let i = 0; i < prefixes.length; i++) {
      batch.text(prefixes[i]!);
      writeJsonValue(batch, values[i]);
    }
    batch.text("}");
    batch.endLine();
  };
}

/** Writes lines (each one JSON object) to a new file, a chunk per awaited write, so a large batch does not hold the event loop (a stream processor keeps applying meanwhile). */
export async function writeLines(path: string, lines: LineBatch): Promise<void> {
  const file = await open(path, "w");
  try {
    for (const chunk of lines.chunks()) await file.write(chunk);
  } finally {
    await file.close();
  }
}

/** A value as JSON text, as DuckDB reads it for the column types ingestion gives (bigints and bytes as text). */
function writeJsonValue(batch: LineBatch, value: unknown): void {
  if (typeof value === "number") {
    if (Number.isFinite(value)) batch.number(value);
    else batch.text("null");
  } else if (typeof value === "bigint") batch.text(`"${value}"`);
  else if (value instanceof Uint8Array) batch.text(`"${Buffer.from(value).toString("base64")}"`);
  else batch.text(JSON.stringify(value ?? null));
}
