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
  /** The day's event-log files; none for a day that only carries slides. */
  readonly eventFiles: readonly string[];
  /** A relation over the day blocks of the days before, as far back as the longest slide reaches; null when there are none. */
  readonly earlierBlocks: string | null;
  readonly slides: readonly number[];
}

/**
 * Compiles one day's blocks (pure; see day-blocks.ts): per key, the day's partials, its events
 * as time-sorted lists, and each slide from this day's partials and the earlier days' blocks.
 * Sums of integers stay BIGINT, of floats DOUBLE.
 *
 * @example
 * compileDayBlock({ joinKeys: [{ name: "card_id", type: "Int64" }], columns: [{ column: "amount", sum: true, min: false, max: true, last: false }],
 *   columnTypes: new Map([["amount", "Float64"]]), dayStart: 1704067200000000, eventFiles: ["/off/v1/date=2024-01-01/part-a-0.parquet"], earlierBlocks: null, slides: [6] })
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
  const lists = [
    `list_transform(__evs, e -> e.ts)::BIGINT[] AS ${block.times}`,
    // Created times only order a slice's last value.
    ...(input.columns.some((c) => c.last) ? [`list_transform(__evs, e -> e.cr)::BIGINT[] AS ${block.created}`] : []),
    ...input.columns.map((c, i) => `list_transform(__evs, e -> e.v${i})::${typed(c.column)}[] AS ${block.values(c.column)}`),
  ];
  const names = partialNames(input.columns);
  const ctes = [`ev AS (${ev})`, `dt AS (SELECT ${[...keys, ...day].join(", ")} FROM ev GROUP BY ${keys.join(", ")})`];
  const select = [...keys, `${input.dayStart}::BIGINT AS ${block.day}`, ...names, ...lists];
  if (input.slides.length === 0) return `WITH ${ctes.join(",\n")}\nSELECT ${select.join(", ")} FROM dt`;

  const reach = Math.max(...input.slides);
  const earlier =
    input.earlierBlocks === null
      ? ""
      : ` UNION ALL BY NAME SELECT ${[...keys, block.day, ...names].join(", ")} FROM ${input.earlierBlocks} WHERE ${partial.events} IS NOT NULL AND ${block.day} > ${input.dayStart - reach * DAY_US}`;
  ctes.push(`days AS (SELECT ${[...keys, `${input.dayStart}::BIGINT AS ${block.day}`, ...names].join(", ")} FROM dt${earlier})`);
  const slides = input.slides.flatMap((length) => mergePartials(input.columns, (p) => p, (p) => block.slide(length, p), `${block.day} > ${input.dayStart - length * DAY_US}`));
  ctes.push(`sl AS (SELECT ${[...keys, ...slides].join(", ")} FROM days GROUP BY ${keys.join(", ")})`);
  const slideColumns = input.slides.flatMap((length) =>
    names.map((n) => {
      const slide = block.slide(length, n);
      const type = summedTypes.get(n);
      return type === undefined ? slide : `CAST(${slide} AS ${type}) AS ${slide}`;
    }),
  );
  return `WITH ${ctes.join(",\n")}\nSELECT ${[...select, ...slideColumns].join(", ")} FROM sl LEFT JOIN dt USING (${keys.join(", ")})`;
}
