import { valueTypeFromName } from "../../definitions/value-type.js";
import { readCommits, writeAtomically } from "../../offline/commit-log.js";
import type { DuckDb } from "../../offline/duckdb.js";
import { committedFiles, ViewVersionLayout } from "../../offline/offline-layout.js";
import { latestVersion, viewNames, type RegistrySnapshot } from "../../registry/registry-records.js";
import { quoteIdent, stringList } from "../../util/sql.js";
import type { SnapshotFile } from "../read/default-snapshot.js";
import { encodeValue } from "../value-codec.js";

/**
 * Builds the default-feature snapshot: per feature, the `default` its definition declares,
 * else from the view's offline data the median (numbers; rounded for integers) or the most
 * frequent value (strings, booleans). Other types have no default (null); an aggregation view's
 * counts default to 0 (an empty window). Written atomically.
 */
export async function buildSnapshot(duck: DuckDb, offlineRoot: string, registry: RegistrySnapshot, path: string): Promise<SnapshotFile> {
  const features: Record<string, SnapshotFile["features"][string]> = {};
  for (const name of viewNames(registry)) {
    const record = latestVersion(registry, name)!;
    const layout = new ViewVersionLayout(offlineRoot, record.name, record.version);
    const files = committedFiles(layout, await readCommits(layout));
    // An aggregation view's offline data is its events, not its features: its defaults are an empty window's values.
    const aggregates = record.spec.aggregation?.aggregates;
    const derived = files.length === 0 || aggregates !== undefined ? {} : await deriveDefaults(duck, files, record.spec.features);
    for (const f of record.spec.features) {
      const type = valueTypeFromName(f.type)!;
      const isCount = aggregates?.find((a) => a.name === f.name)?.function === "count";
      const found = f.default !== undefined ? { value: f.default, source: "declared" as const } : isCount ? { value: 0, source: "empty-window" as const } : (derived[f.name] ?? { value: null, source: "none" as const });
      features[`${record.name}:${f.name}`] = { type: f.type, value: encodeValue(type, found.value), source: found.source };
    }
  }
  const file: SnapshotFile = { format: "strata-default-snapshot/1", project: registry.project, generatedAt: new Date().toISOString(), features };
  await writeAtomically(path, `${JSON.stringify(file, null, 2)}\n`);
  return file;
}

async function deriveDefaults(duck: DuckDb, files: readonly string[], features: readonly { name: string; type: string }[]): Promise<Record<string, { value: unknown; source: "median" | "most-frequent" }>> {
  const selects: string[] = [];
  const kinds = new Map<string, "median" | "most-frequent">();
  for (const f of features) {
    const type = valueTypeFromName(f.type)!;
    if (type.isArray) continue;
    const column = quoteIdent(f.name);
    if (type.scalar.startsWith("Int")) selects.push(`round(median(${column}))::BIGINT AS ${column}`);
    else if (type.scalar.startsWith("Float")) selects.push(`median(${column})::DOUBLE AS ${column}`);
    else if (type.scalar === "String" || type.scalar === "Bool") selects.push(`mode(${column}) AS ${column}`);
    else continue;
    kinds.set(f.name, type.scalar === "String" || type.scalar === "Bool" ? "most-frequent" : "median");
  }
  if (selects.length === 0) return {};
  const [row] = await duck.rows(`SELECT ${selects.join(", ")} FROM read_parquet(${stringList(files)}, union_by_name = true)`);
  return Object.fromEntries([...kinds].map(([name, source]) => [name, { value: row?.[name] ?? null, source }]));
}
