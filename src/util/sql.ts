/** SQL text helpers for DuckDB (and the SQL both registry backends share). Pure. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A list literal of strings: `['a', 'b']`. */
export function stringList(items: readonly string[]): string {
  return `[${items.map(quoteString).join(", ")}]`;
}

/** An exact TIMESTAMPTZ literal for a count of microseconds since the epoch (UTC). */
export function timestampLiteral(micros: bigint): string {
  return `make_timestamp(${micros}::BIGINT)::TIMESTAMPTZ`;
}

/** Microseconds since the epoch → ISO-8601 with microsecond precision, e.g. "2024-01-01T00:00:00.000001Z". */
export function microsToIso(micros: bigint): string {
  const millis = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const rest = micros - millis * 1000n;
  const iso = new Date(Number(millis)).toISOString();
  return `${iso.slice(0, -1)}${rest.toString().padStart(3, "0")}Z`;
}

export function dateToMicros(date: Date): bigint {
  return BigInt(date.getTime()) * 1000n;
}
