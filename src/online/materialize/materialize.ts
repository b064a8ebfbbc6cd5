import { readCommits } from "../../offline/commit-log.js";
import type { DuckDb } from "../../offline/duckdb.js";
import { committedFiles, datesBetween, partitionDate, ViewVersionLayout } from "../../offline/offline-layout.js";
import type { ViewVersionRecord } from "../../registry/registry-records.js";
import { noProgress, type ProgressListener } from "../../util/progress.js";
import { entityKey } from "../entity-key.js";
import type { OnlineService } from "../online-service.js";
import type { MaterializationJob, OnlineWrite } from "../online-store.js";
import { encodeValues, typedFields } from "../value-codec.js";
import { compileLatestPerEntity } from "./materialize-sql.js";

/** Rows written per durable batch; the job's resume point is saved after each. */
export const MATERIALIZE_BATCH_ROWS = 5000;

export interface MaterializeReport {
  readonly view: string;
  readonly version: number;
  readonly start: number;
  readonly end: number;
  /** Entities whose latest row was written (or found already newer) in this run. */
  readonly rows: number;
  readonly applied: number;
  readonly resumedFrom: number;
  readonly skipped: boolean;
  readonly seconds: number;
}

/**
 * Loads the latest value per entity of one view version, for event times in [start, end), from
 * the offline store into the durable online store (and, through the write path, the cache).
 * Streams in chunks (memory does not grow with the row count), records its progress after each
 * batch so a killed run resumes where it stopped, and is idempotent: writes are
 * compare-and-set, and a finished interval is not redone.
 */
export async function materializeView(
  duck: DuckDb,
  offlineRoot: string,
  online: OnlineService,
  record: ViewVersionRecord,
  range: { start: number; end: number },
  onProgress: ProgressListener = noProgress,
): Promise<MaterializeReport> {
  const started = performance.now();
  const ref = { view: record.name, version: record.version };
  const log = online.durable.materializations;
  const previous = await log.find(ref, range.start, range.end);
  const report = (rows: number, applied: number, skipped: boolean): MaterializeReport => ({
    view: record.name, version: record.version, ...range, rows, applied, resumedFrom: previous?.status === "running" ? previous.rows : 0, skipped, seconds: (performance.now() - started) / 1000,
  });
  if (previous?.status === "done") return report(0, 0, true);
  const layout = new ViewVersionLayout(offlineRoot, record.name, record.version);
  const files = committedFiles(layout, await readCommits(layout), datesBetween(partitionDate(Math.max(range.start, 0)), partitionDate(range.end)));
  let job: MaterializationJob = { view: record.name, version: record.version, ...range, status: "running", resumeAfter: previous?.resumeAfter ?? null, rows: previous?.rows ?? 0, updatedAt: new Date().toISOString() };
  await log.save(job);
  let applied = 0;
  let rows = 0;
  if (files.length > 0) {
    const target = { ref, spec: record.spec };
    const fields = typedFields(record.spec.features);
    const phase = `materializing ${record.name} v${record.version}`;
    let batch: OnlineWrite[] = [];
    const flush = async (): Promise<void> => {
      applied += (await online.writer.writeEncoded(target, batch)).applied;
      rows += batch.length;
      job = { ...job, rows: job.rows + batch.length, resumeAfter: batch.at(-1)?.entityKey ?? job.resumeAfter, updatedAt: new Date().toISOString() };
      await log.save(job);
      onProgress({ phase: `${phase}: ${job.rows.toLocaleString()} entities` });
      batch = [];
    };
    onProgress({ phase });
    for await (const chunk of duck.stream(compileLatestPerEntity(record.spec, files, range, job.rows))) {
      for (const row of chunk) {
        const latest = row.latest as Record<string, unknown>;
        const values = encodeValues(fields, (_, i) => latest[`f${i}`]);
        batch.push({ entityKey: entityKey(record.spec.joinKeys, row), values, eventTs: Number(latest.event_us), createdTs: Number(latest.created_us) });
        if (batch.length >= MATERIALIZE_BATCH_ROWS) await flush();
      }
    }
    if (batch.length > 0) await flush();
  }
  await log.save({ ...job, status: "done", updatedAt: new Date().toISOString() });
  return report(rows, applied, false);
}
