import {
  Binary,
  Bool,
  Float32,
  Float64,
  Int32,
  Int64,
  List,
  Field,
  Table,
  TimestampMicrosecond,
  Utf8,
  makeData,
  makeVector,
  vectorFromArray,
  type DataType,
  type Vector,
} from "apache-arrow";

/** The Arrow type for a DuckDB column type of a training set; undefined for types we do not map. */
function arrowType(sqlType: string): DataType | undefined {
  const list = /^(.*)\[\]$/.exec(sqlType);
  if (list !== undefined && list !== null) {
    const element = arrowType(list[1]!);
    return element === undefined ? undefined : new List(new Field("item", element, true));
  }
  const types: Record<string, () => DataType> = {
    BIGINT: () => new Int64(),
    INTEGER: () => new Int32(),
    FLOAT: () => new Float32(),
    DOUBLE: () => new Float64(),
    VARCHAR: () => new Utf8(),
    BOOLEAN: () => new Bool(),
    BLOB: () => new Binary(),
    "TIMESTAMP WITH TIME ZONE": () => new TimestampMicrosecond("UTC"),
  };
  return types[sqlType]?.();
}

/** Timestamps as exact microseconds (JS Dates would round to milliseconds). */
function timestampVector(micros: readonly (bigint | null)[]): Vector {
  const data = new BigInt64Array(micros.length);
  const validity = new Uint8Array(Math.ceil(micros.length / 8));
  let nullCount = 0;
  micros.forEach((m, i) => {
    if (m === null) nullCount++;
    else {
      data[i] = m;
      validity[i >> 3]! |= 1 << (i & 7);
    }
  });
  return makeVector(makeData({ type: new TimestampMicrosecond("UTC"), length: micros.length, nullCount, nullBitmap: validity, data }));
}

/**
 * Builds an Arrow table from columns read out of DuckDB. Timestamp columns must be given as
 * epoch microseconds (bigint); other columns as DuckDB's JS values.
 */
export function toArrowTable(columns: readonly { name: string; sqlType: string; values: readonly unknown[] }[]): Table {
  const vectors: Record<string, Vector> = {};
  for (const { name, sqlType, values } of columns) {
    if (sqlType === "TIMESTAMP WITH TIME ZONE") {
      vectors[name] = timestampVector(values as (bigint | null)[]);
      continue;
    }
    const type = arrowType(sqlType);
    if (type === undefined) throw new TypeError(`column "${name}" has type ${sqlType}, which has no Arrow mapping here`);
    vectors[name] = vectorFromArray(values as unknown[], type as never) as Vector;
  }
  return new Table(vectors);
}
