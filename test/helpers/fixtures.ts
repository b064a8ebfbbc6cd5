import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { batchSource, collectDefinitions, compileDefinitions, entity, featureService, featureView, Float64, Int64, type FeatureView } from "../../src/index.js";
import type { FeatureStore } from "../../src/feature-store.js";
import { toCsv } from "./csv.js";

export const driver = entity({ name: "driver", joinKeys: ["driver_id"] });

/** A view `name` over driver_id with one Float64 feature `value` and one Int64 feature `count`. */
export function driverView(name: string, ttl?: string): FeatureView {
  return featureView({
    name,
    entities: [driver],
    ttl,
    schema: { value: Float64, count: Int64 },
    source: batchSource({ path: `${name}.csv`, timestampField: "ts", createdTimestampField: "created" }),
  });
}

export async function applyViews(store: FeatureStore, views: readonly FeatureView[], withService = false): Promise<void> {
  const service = featureService({ name: "svc", features: [...views] });
  await store.apply(compileDefinitions(collectDefinitions({ views, ...(withService ? { service } : {}) })));
}

export interface FeatureRowInput {
  readonly driver_id: number;
  readonly ts: string;
  readonly created?: string;
  readonly value: number | null;
  readonly count?: number | null;
}

/** Ingests rows (ISO times) into `view` through a CSV file in the project folder. */
export async function ingestRows(store: FeatureStore, view: string, rows: readonly FeatureRowInput[], tag = "0"): Promise<void> {
  const file = join(store.config.projectDir, `${view}-${tag}.csv`);
  const full = rows.map((r) => ({ count: null, created: r.ts, ...r }));
  await writeFile(file, toCsv(["driver_id", "ts", "created", "value", "count"], full));
  await store.ingest(view, { file });
}
