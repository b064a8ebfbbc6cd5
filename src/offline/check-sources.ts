import { isAbsolute, join } from "node:path";
import { storedView } from "../aggregation/stored-view.js";
import type { FeatureViewSpec, RepoSpec } from "../definitions/specs.js";
import type { DuckDb } from "./duckdb.js";
import { readFilesSql } from "./read-files-sql.js";

export interface SourceCheck {
  /** Definition problems (a join key, timestamp or feature the source lacks); they block apply. */
  readonly problems: string[];
  /** Sources with no file yet: apply may go ahead, ingestion will need the data. */
  readonly warnings: string[];
}

export function sourcePath(projectDir: string, view: FeatureViewSpec): string {
  return isAbsolute(view.source.path) ? view.source.path : join(projectDir, view.source.path);
}

/** Checks every view's declared source against the columns its files really have. */
export async function checkSources(duck: DuckDb, projectDir: string, repo: RepoSpec): Promise<SourceCheck> {
  const check: SourceCheck = { problems: [], warnings: [] };
  for (const view of repo.featureViews.map(storedView)) {
    const path = sourcePath(projectDir, view);
    let columns: Set<string>;
    try {
      columns = new Set((await duck.describe(`SELECT * FROM ${readFilesSql(path, view.source.format)}`)).map((c) => c.name));
    } catch {
      check.warnings.push(`featureView "${view.name}": source ${view.source.path} has no readable file yet`);
      continue;
    }
    const inSource = new Map<string, string>(); // view column → source column
    for (const c of [...view.joinKeys.map((k) => k.name), ...view.features.map((f) => f.name)]) inSource.set(c, c);
    for (const [from, to] of Object.entries(view.source.fieldMapping)) inSource.set(to, from);
    const lacks = (what: string, column: string): void => {
      check.problems.push(`featureView "${view.name}" field "source": ${what} "${column}" is not a column of ${view.source.path} (it has: ${[...columns].join(", ")})`);
    };
    for (const key of view.joinKeys) if (!columns.has(inSource.get(key.name)!)) lacks("join key", inSource.get(key.name)!);
    if (!columns.has(view.source.timestampField)) lacks("timestampField", view.source.timestampField);
    const created = view.source.createdTimestampField;
    if (created !== null && !columns.has(created)) lacks("createdTimestampField", created);
    for (const feature of view.features) if (!columns.has(inSource.get(feature.name)!)) lacks("feature", inSource.get(feature.name)!);
  }
  return check;
}
