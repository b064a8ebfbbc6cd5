import { CREATED_TIMESTAMP, EVENT_TIMESTAMP, type JoinKeySpec } from "../definitions/specs.js";
import { valueTypeFromName } from "../definitions/value-type.js";
import { duckdbType } from "../offline/duckdb-types.js";
import { quoteIdent, stringList } from "../util/sql.js";
import { block, DAY_US, mergePartials, partialNames } from "./day-blocks.js";
import { partial, type ColumnPartials } from "./tile-partials.js";

export interface DayBlockInput {
  readonly joinKeys: readonly JoinKeySpec[];
  readonly columns: readonly ColumnPartials[];
  /** Event column → its value type name (e.g. "Float64"). */
  readonly columnTypes: ReadonlyMap<string, string>;
  /** The day's start (µs since the epoch, UTC midnight). */
  readonly dayStart: number;
  /** The day's event-log files; none for a day that only carries slides and copies. */
  readonly eventFiles: readonly string[];
  /** A relation over the day blocks of the days before, as far back as the block reaches (see blockReach); null when there are none. */
  readonly earlierBlocks: string | null;
  readonly slides: readonly number[];
  /** The earlier days whose lists the block copies (see earlierOffsets). */
  readonly offsets: readonly number[];
}

/**
 * Compiles one day's blocks (pure; see day-blocks.ts): per key, the day's partials, its events
 * as time-sorted lists, each slide from the earlier days' partials, and copies of the earlier
 * days' lists. A key gets a row when it has an event on the day or on a day the row reads.
 * Sums of integers stay BIGINT, of floats DOUBLE.
 *
 * @example
 * compileDayBlock({ joinKeys: [{ name: "card_id", type: "Int64" }], columns: [{ column: "amount", sum: true, min: false, max: true, last: false }],
 *   columnTypes: new Map([["amount", "Float64"]]), dayStart: 1704067200000000, eventFiles: ["/off/v1/date=2024-01-01/part-a-0.parquet"], earlierBlocks: null, slides: [6], offsets: [1, 7] })
 */
export function compileDayBlock(input: DayBlockInput): string {
  const keys = input.joinKeys.map((k) => quoteIdent(k.name));
  const typed = (c: string): string => duckdbType(input.columnTypes.get(c) ?? "String");
  const isFloat = (c: string): boolean => valueTypeFromName(input.columnTypes.get(c) ?? "")?.scalar.startsWith("Float") === true;
  const evColumns = [
    ...input.joinKeys.map((k) => [quoteIdent(k.name), duckdbType(k.type), quoteIdent(k.name)]),
    [`epoch_us(${EVENT_TIMESTAMP})`, "BIGINT", "__ts"],
    [`epoch_us(${CREATED_TIMESTAMP})`, "BIGINT", "__cr"],
    ...input.columns.map((c) => [quoteIdent(c.column), typed(c.column), quoteIdent(c.column)]),
  ];
  const ev =
    input.eventFiles.length === 0
      ? `SELECT ${evColumns.map(([, type, name]) => `NULL::${type} AS ${name}`).join(", ")} WHERE false`
      : `SELECT ${evColumns.map(([expr, type, name]) => `CAST(${expr} AS ${type}) AS ${name}`).join(", ")} FROM read_parquet(${stringList(input.eventFiles)}, union_by_name = true)`;
  // The stored types of the partials that count or sum, for the day's and the slides' alike: merged,
  // counts come out as DOUBLE and integer sums as 128-bit HUGEINT, which training sets read and merge more slowly.
  const summedTypes = new Map<string, string>([[partial.events, "BIGINT"]]);
  for (const c of input.columns) {
    summedTypes.set(partial.count(c.column), "BIGINT");
    if (c.sum) summedTypes.set(partial.sum(c.column), isFloat(c.column) ? "DOUBLE" : "BIGINT");
  }
  const day = [`count(*) AS ${partial.events}`];
  for (const c of input.columns) {
    const col = quoteIdent(c.column);
    day.push(`count(${col}) AS ${partial.count(c.column)}`);
    if (c.sum) day.push(`sum(${col})::${summedTypes.get(partial.sum(c.column))!} AS ${partial.sum(c.column)}`);
    if (c.min) day.push(`min(${col}) AS ${partial.min(c.column)}`);
    if (c.max) day.push(`max(${col}) AS ${partial.max(c.column)}`);
    if (c.last) {
      const ord = `CASE WHEN ${col} IS NOT NULL THEN struct_pack(ts := __ts, cr := __cr) END`;
      day.push(`arg_max(${col}, ${ord}) AS ${partial.last(c.column)}`, `max(${ord}) AS ${partial.ord(c.column)}`);
    }
  }
  // Sorting structs sorts by (event time, created time) first: the lists' order.
  const fields = ["ts := __ts", "cr := __cr", ...input.columns.map((c, i) => `v${i} := ${quoteIdent(c.column)}`)];
  day.push(`list_sort(list(struct_pack(${fields.join(", ")}))) AS __evs`);
  // [list, event field, element type]
  const lists: [string, string, string][] = [
    [block.times, "ts", "BIGINT"],
    // Created times only order a slice's last value.
    ...(input.columns.some((c) => c.last) ? [[block.created, "cr", "BIGINT"] as [string, string, string]] : []),
    ...input.columns.map((c, i): [string, string, string] => [block.values(c.column), `v${i}`, typed(c.column)]),
  ];
  const listNames = lists.map(([name]) => name);
  const names = partialNames(input.columns);
  const own = [...keys, `${input.dayStart}::BIGINT AS ${block.day}`, ...names, ...lists.map(([name, field, type]) => `list_transform(__evs, e -> e.${field})::${type}[] AS ${name}`)];
  const ctes = [`ev AS (${ev})`, `dt AS (SELECT ${[...keys, ...day].join(", ")} FROM ev GROUP BY ${keys.join(", ")})`, `own AS (SELECT ${own.join(", ")} FROM dt)`];
  const reach = Math.max(0, ...input.slides, ...input.offsets);
  if (reach === 0) return `WITH ${ctes.join(",\n")}\nSELECT * FROM own`;

  // The earlier days' own rows; typed and empty when there are none.
  const earlierColumns = [...keys, block.day, ...names, ...listNames].join(", ");
  const earlier =
    input.earlierBlocks === null
      ? `SELECT ${earlierColumns} FROM own WHERE false`
      : `SELECT ${earlierColumns} FROM ${input.earlierBlocks} WHERE ${partial.events} IS NOT NULL AND ${block.day} >= ${input.dayStart - reach * DAY_US} AND ${block.day} < ${input.dayStart}`;
  ctes.push(`earlier AS (${earlier})`, `ks AS (SELECT ${keys.join(", ")} FROM own UNION SELECT ${keys.join(", ")} FROM earlier)`);
  const joins: string[] = [];
  const select = [...keys.map((k) => `ks.${k}`), `${input.dayStart}::BIGINT AS ${block.day}`, ...names, ...listNames];
  if (input.slides.length > 0) {
    const slides = input.slides.flatMap((length) => mergePartials(input.columns, (p) => p, (p) => block.slide(length, p), `${block.day} >= ${input.dayStart - length * DAY_US}`));
    ctes.push(`sl AS (SELECT ${[...keys, ...slides].join(", ")} FROM earlier GROUP BY ${keys.join(", ")})`);
    joins.push("sl");
    select.push(
      ...input.slides.flatMap((length) =>
        names.map((n) => {
          const slide = block.slide(length, n);
          const type = summedTypes.get(n);
          return type === undefined ? slide : `CAST(${slide} AS ${type}) AS ${slide}`;
        }),
      ),
    );
  }
  for (const offset of input.offsets) {
    const copied = [partial.events, ...listNames];
    ctes.push(`c${offset} AS (SELECT ${[...keys, ...copied.map((c) => `${c} AS ${block.earlier(offset, c)}`)].join(", ")} FROM earlier WHERE ${block.day} = ${input.dayStart - offset * DAY_US})`);
    joins.push(`c${offset}`);
    select.push(...copied.map((c) => block.earlier(offset, c)));
  }
  const from = ["own", ...joins].map((j) => `LEFT JOIN ${j} USING (${keys.join(", ")})`).join(" ");
  return `WITH ${ctes.join(",\n")}\nSELECT ${select.join(", ")} FROM ks ${from}`;
}
