import { stat } from "node:fs/promises";
import { basename, join, sep } from "node:path";
import { backfillTiles } from "../aggregation/backfill.js";
import { holdsBlocks, withBlockFiles } from "../aggregation/block-files.js";
import { block } from "../aggregation/day-blocks.js";
import { storedView } from "../aggregation/stored-view.js";
import type { DuckDb } from "../offline/duckdb.js";
import { ViewVersionLayout } from "../offline/offline-layout.js";
import { filesUnder } from "../offline/publish-ingest.js";
import { rewritePartitions } from "../offline/rewrite-partitions.js";
import { stringList } from "../util/sql.js";
import type { ErasureContext, ErasureCopy } from "./erasure-copy.js";
import { erasedRowSql, subjectRowSql } from "./subject.js";

const layoutOf = (ctx: ErasureContext, name: string, version: number): ViewVersionLayout => new ViewVersionLayout(ctx.offlineRoot, name, version);

/** Every Parquet file under a folder, whatever its state (committed, replaced, staged): a scan for traces reads them all. */
async function parquetFiles(dir: string): Promise<string[]> {
  return (await filesUnder(dir).catch(() => [])).filter((f) => f.endsWith(".parquet"));
}

async function countRows(duck: DuckDb, files: readonly string[], where: string): Promise<number> {
  if (files.length === 0) return 0;
  const [row] = await duck.rows(`SELECT count(*) AS n FROM read_parquet(${stringList(files)}, union_by_name = true, hive_partitioning = false) WHERE ${where}`);
  return Number(row?.n);
}

/**
 * The offline store: each view version's files holding the subject's rows are rewritten without
 * them (rewrite-partitions.ts); an aggregation view's tiles of the dates touched are rebuilt.
 */
export const offlineCopy: ErasureCopy = {
  name: "offline",
  async erase(ctx) {
    let rows = 0;
    let files = 0;
    for (const record of ctx.views) {
      const layout = layoutOf(ctx, record.name, record.version);
      const report = await rewritePartitions(ctx.duck, layout, erasedRowSql(storedView(record.spec), ctx.erasure.subject, ctx.erasure.boundaryMicros), `erase:${ctx.erasure.id}`);
      rows += report.rowsRemoved;
      files += report.files;
      const tiles = await stat(join(layout.dir, "_tiles")).catch(() => undefined);
      if (record.spec.aggregation !== undefined && tiles !== undefined) {
        // Also removes what a killed backfill left, which may hold the subject's blocks of any date.
        await backfillTiles(ctx.duck, ctx.offlineRoot, record);
      }
    }
    return [{ copy: "offline-store", count: rows, detail: `${rows} row(s) removed by rewriting ${files} partition file(s); aggregation tiles rebuilt` }];
  },
  async remaining(ctx) {
    let rows = 0;
    for (const record of ctx.views) {
      const layout = layoutOf(ctx, record.name, record.version);
      // Tiles of an older format (Parquet) are removed by the backfill that erase runs.
      const events = (await parquetFiles(layout.dir)).filter((f) => !f.includes(`${sep}_tiles${sep}`));
      rows += await countRows(ctx.duck, events, erasedRowSql(storedView(record.spec), ctx.erasure.subject, ctx.erasure.boundaryMicros));
      // A day block whose earliest event (of its own day, or of an earlier day it copies) is at or before the boundary holds events from then.
      const tiles = (await filesUnder(layout.dir).catch(() => [])).filter((f) => holdsBlocks(basename(f)));
      const [blockRows] = await withBlockFiles(ctx.duck, tiles, async (blocks) => {
        if (blocks === null) return [];
        const times = (await ctx.duck.describe(`SELECT * FROM ${blocks}`)).map((c) => c.name).filter((n) => n === block.times || block.isEarlier(n, block.times));
        const early = times.map((t) => `${t}[1] <= ${ctx.erasure.boundaryMicros}`).join(" OR ");
        return ctx.duck.rows(`SELECT count(*) AS n FROM ${blocks} WHERE ${subjectRowSql(record.spec, ctx.erasure.subject)} AND (${early})`);
      });
      rows += Number(blockRows?.n ?? 0);
    }
    return [{ copy: "offline-store", count: rows, detail: `${rows} row(s) of the subject in the offline files (events and tiles, committed or not)` }];
  },
};
