import { valueTypeFromName, type ScalarTypeName, type ValueType } from "../definitions/value-type.js";

const scalarSql: Record<ScalarTypeName, string> = {
  Int32: "INTEGER",
  Int64: "BIGINT",
  Float32: "FLOAT",
  Float64: "DOUBLE",
  String: "VARCHAR",
  Bool: "BOOLEAN",
  Timestamp: "TIMESTAMPTZ",
  Bytes: "BLOB",
};

/** The DuckDB (and Parquet) type a Strata value type is stored as. */
export function duckdbType(type: ValueType | string): string {
  const resolved = typeof type === "string" ? valueTypeFromName(type) : type;
  if (resolved === undefined) throw new TypeError(`unknown value type ${typeof type === "string" ? type : type.name}`);
  return resolved.isArray ? `${scalarSql[resolved.scalar]}[]` : scalarSql[resolved.scalar];
}

export type ColumnCategory = "integer" | "float" | "decimal" | "string" | "boolean" | "timestamp" | "date" | "blob" | "numeric-list" | "other";

/** Groups a DuckDB column type (as DESCRIBE prints it) by what it can hold. */
export function categorize(sqlType: string): ColumnCategory {
  const t = sqlType.toUpperCase();
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/.test(t)) return "integer";
  if (t === "FLOAT" || t === "DOUBLE") return "float";
  if (t.startsWith("DECIMAL")) return "decimal";
  if (t === "VARCHAR") return "string";
  if (t === "BOOLEAN") return "boolean";
  if (t.startsWith("TIMESTAMP")) return "timestamp";
  if (t === "DATE") return "date";
  if (t === "BLOB") return "blob";
  const element = /^(.*)\[\d*\]$/.exec(t)?.[1];
  if (element !== undefined && ["integer", "float", "decimal"].includes(categorize(element))) return "numeric-list";
  return "other";
}

/**
 * Whether a source column of `category` may feed a value of `target`. Strings always may:
 * CSV columns are read as text and each value is checked row by row when cast.
 */
export function accepts(target: ValueType, category: ColumnCategory): boolean {
  if (category === "string") return true;
  if (target.isArray) return category === "numeric-list";
  switch (target.scalar) {
    case "Int32":
    case "Int64":
    case "Float32":
    case "Float64":
      return category === "integer" || category === "float" || category === "decimal";
    case "Bool":
      return category === "boolean";
    case "Timestamp":
      return category === "timestamp" || category === "date";
    case "Bytes":
      return category === "blob";
    case "String":
      return false;
  }
}
