import { InvalidRequestError } from "../errors.js";
import { quoteIdent } from "../util/sql.js";
import type { AppendType, DuckDb } from "./duckdb.js";
import { formatOf, readFilesSql } from "./read-files-sql.js";

/**
 * Loads the entity rows of a training-set request (a Parquet/CSV file, or JS objects) into a
 * temp table. Row order is kept: DuckDB preserves insertion order, so `rowid` is the input
 * position and the output is sorted by it.
 */
export async function loadEntities(duck: DuckDb, table: string, entities: string | readonly Record<string, unknown>[]): Promise<void> {
  if (typeof entities === "string") {
    const format = formatOf(entities);
    if (format === undefined) throw new InvalidRequestError(`cannot tell the format of entity file "${entities}": use .parquet or .csv`);
    try {
      await duck.run(`CREATE TEMP TABLE ${table} AS SELECT * FROM ${readFilesSql(entities, format)}`);
    } catch (error) {
      throw new InvalidRequestError(`cannot read entity file "${entities}": ${(error as Error).message.split("\n")[0]}`, { cause: error });
    }
    return;
  }
  const columns = inferColumns(entities);
  await duck.run(`CREATE TEMP TABLE ${table} (${columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(", ")})`);
  await duck.appendRows(table, columns, entities);
}

function typeOfValue(value: unknown): AppendType | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "bigint") return "BIGINT";
  if (typeof value === "number") return Number.isInteger(value) ? "BIGINT" : "DOUBLE";
  if (typeof value === "string") return "VARCHAR";
  if (typeof value === "boolean") return "BOOLEAN";
  if (value instanceof Date) return "TIMESTAMPTZ";
  throw new InvalidRequestError(`entity rows may hold numbers, bigints, strings, booleans, Dates or null; got ${typeof value}`);
}

/** Column types from the values: integers and fractions mix into DOUBLE; other mixes are errors. */
function inferColumns(rows: readonly Record<string, unknown>[]): { name: string; type: AppendType }[] {
  if (rows.length === 0) throw new InvalidRequestError("no entity rows given");
  const types = new Map<string, AppendType | undefined>();
  rows.forEach((row, index) => {
    for (const [name, value] of Object.entries(row)) {
      const seen = types.get(name);
      const type = typeOfValue(value);
      if (type === undefined || seen === type) {
        if (!types.has(name)) types.set(name, undefined);
        continue;
      }
      if (seen === undefined) types.set(name, type);
      else if (new Set([seen, type]).size === 2 && [seen, type].every((t) => t === "BIGINT" || t === "DOUBLE")) types.set(name, "DOUBLE");
      else throw new InvalidRequestError(`entity row ${index + 1}, column "${name}": ${type} value in a column of ${seen} values`);
    }
  });
  return [...types].map(([name, type]) => ({ name, type: type ?? "VARCHAR" }));
}
