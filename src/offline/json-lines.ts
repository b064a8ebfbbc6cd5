import { open } from "node:fs/promises";

/** A column of a JSON-lines file: its name and how to read it from a row. */
export interface LineColumn<Row> {
  readonly name: string;
  readonly read: (row: Row) => unknown;
}

/** Rows per write: each write is awaited, so a large batch does not hold the event loop (a stream processor keeps applying meanwhile). */
const CHUNK_ROWS = 10_000;

/**
 * Writes rows as newline-delimited JSON objects of the given columns, for DuckDB's read_json.
 * Each line is built by concatenation from the columns' pre-quoted names: building an object per
 * row to stringify it was most of the cost of appending a stream's events to the event log.
 */
export async function writeJsonLines<Row>(path: string, rows: readonly Row[], columns: readonly LineColumn<Row>[]): Promise<void> {
  const prefixes = columns.map((c, i) => `${i === 0 ? "{" : ","}${JSON.stringify(c.name)}:`);
  const file = await open(path, "w");
  try {
    for (let from = 0; from < rows.length; from += CHUNK_ROWS) {
      let text = "";
      for (let r = from; r < Math.min(rows.length, from + CHUNK_ROWS); r++) {
        const row = rows[r]!;
        for (let i = 0; i < columns.length; i++) text += prefixes[i]! + jsonValue(columns[i]!.read(row));
        text += "}\n";
      }
      await file.write(text);
    }
  } finally {
    await file.close();
  }
}

/** Writes lines built elsewhere (each one JSON object), in awaited chunks like `writeJsonLines`. */
export async function writeLines(path: string, lines: readonly string[]): Promise<void> {
  const file = await open(path, "w");
  try {
    for (let from = 0; from < lines.length; from += CHUNK_ROWS) await file.write(`${lines.slice(from, from + CHUNK_ROWS).join("\n")}\n`);
  } finally {
    await file.close();
  }
}

/** A value as JSON text, as DuckDB reads it for the column types ingestion gives (bigints and bytes as text). */
export function jsonValue(value: unknown): string {
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "null";
  if (typeof value === "bigint") return `"${value}"`;
  if (value instanceof Uint8Array) return `"${Buffer.from(value).toString("base64")}"`;
  return JSON.stringify(value ?? null);
}
