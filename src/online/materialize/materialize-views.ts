import { InvalidRequestError, NotFoundError } from "../../errors.js";
import type { DuckDb } from "../../offline/duckdb.js";
import { latestVersion, viewNames, type RegistrySnapshot } from "../../registry/registry-records.js";
import type { ProgressListener } from "../../util/progress.js";
import type { OnlineService } from "../online-service.js";
import { materializeView, type MaterializeReport } from "./materialize.js";

export interface MaterializeOptions {
  /** View names; default: every view with `online: true`. */
  readonly views?: readonly string[];
  readonly start?: Date;
  /** Default: now. */
  readonly end?: Date;
  /** From each view's last materialized end (first run: end - ttl, or everything without a ttl). */
  readonly incremental?: boolean;
  readonly onProgress?: ProgressListener;
}

/** `strata materialize` / `materialize-incremental`: the latest version of each view, one after another. */
export async function materializeViews(duck: DuckDb, offlineRoot: string, online: OnlineService, snapshot: RegistrySnapshot, options: MaterializeOptions): Promise<MaterializeReport[]> {
  // Aggregation views are not materialized: their online state comes from their events (`strata stream run`).
  const names = options.views ?? viewNames(snapshot).filter((n) => latestVersion(snapshot, n)?.spec.online === true && latestVersion(snapshot, n)?.spec.aggregation === undefined);
  const end = (options.end ?? new Date()).getTime() * 1000;
  const reports: MaterializeReport[] = [];
  for (const name of names) {
    const record = latestVersion(snapshot, name);
    if (record === undefined) throw new NotFoundError("feature view", name, `known views: ${viewNames(snapshot).join(", ") || "none"}`);
    if (record.spec.aggregation !== undefined) throw new InvalidRequestError(`"${name}" is an aggregation view: its online state comes from its events (strata stream run, or POST /push), not from materialize`);
    const ttl = record.spec.ttlSeconds;
    const start = options.incremental === true
      ? ((await online.durable.materializations.lastEnd({ view: record.name, version: record.version })) ?? (ttl === null ? 0 : end - ttl * 1_000_000))
      : options.start === undefined ? 0 : options.start.getTime() * 1000;
    reports.push(await materializeView(duck, offlineRoot, online, record, { start, end }, options.onProgress));
  }
  return reports;
}
