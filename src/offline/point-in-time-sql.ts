import { CREATED_TIMESTAMP, EVENT_TIMESTAMP } from "../definitions/specs.js";
import { quoteIdent, stringList } from "../util/sql.js";

/** One view of a point-in-time query: which stored files to read and which features to emit. */
export interface PitView {
  readonly joinKeys: readonly { readonly name: string; readonly sqlType: string }[];
  /** `stored` is the column in the files, `output` the result column; `present: false` → always NULL. */
  readonly features: readonly { readonly stored: string; readonly output: string; readonly sqlType: string; readonly present: boolean }[];
  readonly files: readonly string[];
  readonly ttlSeconds: number | null;
  /** No two candidate rows share keys and event_timestamp: the created_timestamp tie-break is moot. */
  readonly tieFree: boolean;
  /**
   * A table already holding this view's values per entity row (ROW_ID, the features under their
   * output names, PRECOMPUTED_MATCHED): aggregation views, computed by their own plan. Such a view
   * has no join keys or files here and counts as tie-free.
   */
  readonly precomputed?: string;
  /** Rows to skip (SQL over the stored columns): an erased subject's, until the files are rewritten. */
  readonly hidden?: string;
}

export interface PitQuery {
  /** Holds the entity rows; `rowid` is the input position. */
  readonly entityTable: string;
  readonly entityColumns: readonly { readonly name: string; readonly sqlType: string }[];
  readonly timestampColumn: string;
  readonly views: readonly PitView[];
  /** `event_timestamp <= t` instead of the default `< t`. */
  readonly inclusive: boolean;
  /** Only rows with `created_timestamp <= t`: what had been ingested by the label time. */
  readonly asOfIngestion: boolean;
}

export const ROW_ID = "__row_id";
/** A precomputed view's table says with this column whether any of its values came from data. */
export const PRECOMPUTED_MATCHED = "__matched";
export const matchedColumn = (viewIndex: number): string => `__matched_${viewIndex}`;

const TWO_64 = "18446744073709551616";
const TWO_63 = "9223372036854775808";
/** (event_timestamp, created_timestamp) packed into one orderable HUGEINT: event µs high, created µs low. */
const orderKey = (ts: string, created: string): string => `(epoch_us(${ts})::HUGEINT * ${TWO_64} + (epoch_us(${created})::HUGEINT + ${TWO_63}))`;

/**
 * Compiles DESIGN.md's point-in-time contract to one DuckDB SELECT (pure). For each entity row
 * (keys k, time t) and view: among rows with keys k and event_timestamp < t (<= if inclusive),
 * within the TTL, and (as of ingestion) created_timestamp <= t, the winner has the greatest
 * event_timestamp, then the greatest created_timestamp. Every entity row comes out once, in
 * input order.
 *
 * The default plan is an ASOF join per view. When a view's rows may tie on event_timestamp,
 * the ASOF key becomes the packed (event, created) HUGEINT so the join itself breaks ties.
 * As of ingestion, the created-time condition depends on t, which ASOF cannot express, so
 * those views use an inequality join with arg_max.
 */
export function compilePointInTime(q: PitQuery): string {
  const keyColumn = (viewIndex: number, keyIndex: number): string => `__k${viewIndex}_${keyIndex}`;
  const entitySelect = [`rowid AS ${ROW_ID}`, "*", `CAST(${quoteIdent(q.timestampColumn)} AS TIMESTAMPTZ) AS __t`];
  const entityType = new Map(q.entityColumns.map((c) => [c.name, c.sqlType]));
  q.views.forEach((v, i) =>
    v.joinKeys.forEach((k, j) => {
      const same = entityType.get(k.name) === k.sqlType;
      entitySelect.push(`${same ? quoteIdent(k.name) : `TRY_CAST(${quoteIdent(k.name)} AS ${k.sqlType})`} AS ${keyColumn(i, j)}`);
    }),
  );
  if (!q.asOfIngestion && q.views.some((v) => !v.tieFree)) {
    entitySelect.push(`epoch_us(__t)::HUGEINT * ${TWO_64} AS __t_lo`, `epoch_us(__t)::HUGEINT * ${TWO_64} + (${TWO_64} - 1) AS __t_hi`);
  }
  const ctes = [`e AS (SELECT ${entitySelect.join(", ")} FROM ${q.entityTable})`];
  const joins: string[] = [];
  const outputs: string[] = [`e.${ROW_ID}`, ...q.entityColumns.map((c) => `e.${quoteIdent(c.name)}`)];

  q.views.forEach((view, i) => {
    const alias = `v${i}`;
    if (view.precomputed !== undefined) {
      joins.push(`LEFT JOIN ${view.precomputed} ${alias} ON ${alias}.${ROW_ID} = e.${ROW_ID}`);
      view.features.forEach((f) => outputs.push(`${alias}.${quoteIdent(f.output)}`));
      outputs.push(`coalesce(${alias}.${PRECOMPUTED_MATCHED}, FALSE) AS ${matchedColumn(i)}`);
      return;
    }
    // A view with no data yet reads from an empty relation of the same shape.
    const empty = view.files.length === 0;
    const value = (expr: string, sqlType: string, present = true): string => (empty || !present ? `CAST(NULL AS ${sqlType})` : expr);
    const columns = [
      ...view.joinKeys.map((k, j) => `${value(quoteIdent(k.name), k.sqlType)} AS ${keyColumn(i, j)}`),
      `${value(EVENT_TIMESTAMP, "TIMESTAMPTZ")} AS __ts`,
      ...(q.asOfIngestion ? [`${value(CREATED_TIMESTAMP, "TIMESTAMPTZ")} AS __created`] : []),
      ...(q.asOfIngestion || !view.tieFree ? [`${value(orderKey(EVENT_TIMESTAMP, CREATED_TIMESTAMP), "HUGEINT")} AS __ord`] : []),
      ...view.features.map((f, j) => `${value(quoteIdent(f.stored), f.sqlType, f.present)} AS __f${j}`),
    ];
    // Partition pruning (the caller's file choice) bounds what is read; a row-level time filter
    // here would be nearly always true and measurably slows DuckDB's scan feeding the ASOF join.
    const from = empty ? "(SELECT 1) AS none WHERE false" : `read_parquet(${stringList(view.files)}, union_by_name = true)${view.hidden === undefined ? "" : ` WHERE (${view.hidden}) IS NOT TRUE`}`;
    ctes.push(`${alias} AS (SELECT ${columns.join(", ")} FROM ${from})`);
    const keysMatch = (other: string): string => view.joinKeys.map((_, j) => `e.${keyColumn(i, j)} = ${other}.${keyColumn(i, j)}`).join(" AND ");
    const ttlFloor = (ts: string): string => (view.ttlSeconds === null ? "TRUE" : `${ts} >= e.__t - to_seconds(${view.ttlSeconds})`);

    if (q.asOfIngestion) {
      const winner = `w${i}`;
      const fields = ["ts := c.__ts", ...view.features.map((_, j) => `f${j} := c.__f${j}`)].join(", ");
      ctes.push(
        `${winner} AS (SELECT e.${ROW_ID}, arg_max(struct_pack(${fields}), c.__ord) AS w FROM e JOIN ${alias} c ON ${keysMatch("c")} ` +
          `AND c.__ts ${q.inclusive ? "<=" : "<"} e.__t AND c.__created <= e.__t AND ${ttlFloor("c.__ts")} GROUP BY e.${ROW_ID})`,
      );
      joins.push(`LEFT JOIN ${winner} ON ${winner}.${ROW_ID} = e.${ROW_ID}`);
      view.features.forEach((f, j) => outputs.push(`${winner}.w.f${j} AS ${quoteIdent(f.output)}`));
      outputs.push(`(${winner}.w IS NOT NULL) AS ${matchedColumn(i)}`);
      return;
    }
    const inequality = view.tieFree ? `e.__t ${q.inclusive ? ">=" : ">"} ${alias}.__ts` : `e.${q.inclusive ? "__t_hi >=" : "__t_lo >"} ${alias}.__ord`;
    joins.push(`ASOF LEFT JOIN ${alias} ON ${keysMatch(alias)} AND ${inequality}`);
    const live = view.ttlSeconds === null ? `${alias}.__ts IS NOT NULL` : ttlFloor(`${alias}.__ts`);
    view.features.forEach((f, j) => outputs.push(view.ttlSeconds === null ? `${alias}.__f${j} AS ${quoteIdent(f.output)}` : `CASE WHEN ${live} THEN ${alias}.__f${j} END AS ${quoteIdent(f.output)}`));
    outputs.push(`coalesce(${live}, FALSE) AS ${matchedColumn(i)}`);
  });
  return `WITH ${ctes.join(",\n")}\nSELECT ${outputs.join(", ")}\nFROM e\n${joins.join("\n")}\nORDER BY e.${ROW_ID}`;
}
