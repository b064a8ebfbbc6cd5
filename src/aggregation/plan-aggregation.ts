import { fullFeatureName } from "../definitions/feature-ref.js";
import { readCommits } from "../offline/commit-log.js";
import type { DuckDb } from "../offline/duckdb.js";
import { duckdbType } from "../offline/duckdb-types.js";
import { committedFiles, datesBetween, partitionDate, ViewVersionLayout } from "../offline/offline-layout.js";
import type { ResolvedViewFeatures } from "../registry/resolve-features.js";
import { backfillTiles } from "./backfill.js";
import { withBlockFiles } from "./block-files.js";
import { chooseSearch } from "./position-search-sql.js";
import { block, earlierOffsets, windowShapes } from "./day-blocks.js";
import { partial } from "./tile-partials.js";
import { compileRawWindows } from "./raw-window-sql.js";
import { monthPackFiles } from "./tile-files.js";
import { compileWindows } from "./window-sql.js";

export interface AggregationPlanInput {
  readonly entityTable: string;
  readonly entityTypes: ReadonlyMap<string, string>;
  readonly timestampColumn: string;
  /** The entity rows' time range (µs), null when there are none. */
  readonly timeRange: { readonly min: bigint; readonly max: bigint } | null;
  readonly fullFeatureNames: boolean;
  readonly asOfIngestion: boolean;
  /** The temporary table to fill: `__row_id`, the requested aggregates, `__matched`. */
  readonly resultTable: string;
}

/**
 * Computes an aggregation view's requested aggregates for every entity row into a temporary
 * table. Brings the tiles up to date first (an incremental backfill), then reads only the month
 * packs that hold the entity rows' days. As of ingestion, the raw range-join plan.
 */
export async function computeAggregates(duck: DuckDb, offlineRoot: string, resolved: ResolvedViewFeatures, input: AggregationPlanInput): Promise<{ output: string; sqlType: string; stored: string }[]> {
  const { record } = resolved;
  const aggregation = record.spec.aggregation!;
  const wanted = new Set(resolved.features.map((f) => f.name));
  const aggregates = aggregation.aggregates.filter((a) => wanted.has(a.name));
  const layout = new ViewVersionLayout(offlineRoot, record.name, record.version);
  const outputs = new Map(aggregates.map((a) => [a.name, input.fullFeatureNames ? fullFeatureName(record.name, a.name) : a.name]));
  const sqlTypes = new Map(record.spec.features.map((f) => [f.name, duckdbType(f.type)]));
  const keys = record.spec.joinKeys.map((k) => ({ name: k.name, sqlType: duckdbType(k.type), cast: input.entityTypes.get(k.name) !== duckdbType(k.type) }));
  const range = input.timeRange ?? { min: 0n, max: 0n };
  const longest = BigInt(Math.max(...aggregates.map((a) => a.windowSeconds + a.hopSeconds))) * 1_000_000n;
  const commits = await readCommits(layout);
  const eventFiles = (from: bigint): string[] => (input.timeRange === null ? [] : committedFiles(layout, commits, datesBetween(partitionDate(from), partitionDate(range.max))));
  const common = { entityTable: input.entityTable, keys, timestampColumn: input.timestampColumn, outputs, sqlTypes };
  if (input.asOfIngestion) {
    await duck.run(`CREATE TEMP TABLE ${input.resultTable} AS ${compileRawWindows({ ...common, aggregates, eventFiles: eventFiles(range.min - longest), asOfIngestion: true })}`);
  } else {
    await backfillTiles(duck, offlineRoot, record);
    // A label reads the block of its own day only.
    const blockFiles = input.timeRange === null ? [] : await monthPackFiles(layout, partitionDate(range.min), partitionDate(range.max));
    const copied = earlierOffsets(windowShapes(aggregates)).map((o) => `coalesce(${block.earlier(o, partial.events)}, 0)`);
    await withBlockFiles(duck, blockFiles, async (blocks) => {
      // Block sizes choose the position search (the largest list searched bounds a bisection); flat columns, read in milliseconds.
      const [sizes] = blocks === null ? [] : await duck.rows(`SELECT coalesce(max(greatest(coalesce(${partial.events}, 0), ${[...copied, "0"].join(", ")})), 0) AS most, coalesce(avg(${partial.events}), 0) AS mean FROM ${blocks}`);
      const stats = { maxBlockEvents: Number(sizes?.most ?? 0), meanBlockEvents: Number(sizes?.mean ?? 0) };
      await duck.run(`CREATE TEMP TABLE ${input.resultTable} AS ${compileWindows({ ...common, aggregates, blocks, maxBlockEvents: stats.maxBlockEvents, search: chooseSearch(stats) })}`);
    });
  }
  return aggregates.map((a) => ({ output: outputs.get(a.name)!, sqlType: sqlTypes.get(a.name)!, stored: a.name }));
}
