import { open } from "node:fs/promises";
import type { LineBatch } from "./line-batch.js";

/**
 * A builder of one JSON object per line with these keys, from values given in the same order
 * (what DuckDB's read_json takes): built by concatenation from pre-quoted keys, since building
 * an object per row to stringify it was most of the cost of appending a stream's events.
 *
 * @example
 * jsonLine(["id", "ts"])([7n, 1_700_000_000_000_000]); // '{"id":"7","ts":1700000000000000}'
 */
export function jsonLine(names: readonly string[]): (values: readonly unknown[]) => string {
  const prefixes = names.map((name, i) => `${i === 0 ? "{" : ","}${JSON.stringify(name)}:`);
  return (values) => {
    let text = names.length === 0 ? "{" : "";
    for (let i = 0; i < prefixes.length; i++) text += prefixes[i]! + jsonValue(values[i]);
    return `${text}}`;
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
function jsonValue(value: unknown): string {
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "null";
  if (typeof value === "bigint") return `"${value}"`;
  if (value instanceof Uint8Array) return `"${Buffer.from(value).toString("base64")}"`;
  return JSON.stringify(value ?? null);
}
