import { DefinitionError } from "../errors.js";
import type { Definition } from "./collect-definitions.js";
import { compileAggregationView } from "./compile-aggregation-view.js";
import { compileEntity } from "./compile-entity.js";
import { compileFeatureService } from "./compile-feature-service.js";
import { compileFeatureView } from "./compile-feature-view.js";
import { Problems } from "./problems.js";
import type { EntitySpec, FeatureViewSpec, RepoSpec } from "./specs.js";

/**
 * Validates and normalizes definitions into a `RepoSpec` (pure: no I/O). Throws one
 * `DefinitionError` listing every problem, each naming its object and field.
 *
 * @example
 * const repo = compileDefinitions(collectDefinitions(await import("./features.ts")));
 */
export function compileDefinitions(definitions: readonly Definition[]): RepoSpec {
  const problems = new Problems();
  const entities = new Map<unknown, EntitySpec>();
  const views = new Map<unknown, FeatureViewSpec>();
  const services = [];
  for (const d of definitions) if (d.kind === "entity") entities.set(d, compileEntity(d, problems.for("entity", d.name)));
  for (const d of definitions) {
    if (d.kind === "featureView") views.set(d, compileFeatureView(d, entities, problems.for("featureView", d.name)));
    if (d.kind === "aggregationView") views.set(d, compileAggregationView(d, entities, problems.for("aggregationView", d.name)));
  }
  for (const d of definitions) if (d.kind === "featureService") services.push(compileFeatureService(d, views, problems.for("featureService", d.name)));
  const repo: RepoSpec = {
    entities: dedupeByName("entity", [...entities.values()], problems),
    featureViews: dedupeByName("featureView", [...views.values()], problems),
    featureServices: dedupeByName("featureService", services, problems),
  };
  checkNamesUnique(repo, problems);
  if (problems.list.length > 0) throw new DefinitionError(problems.list);
  return repo;
}

/** Two objects with one name are fine only when they define exactly the same thing. */
function dedupeByName<T extends { name: string }>(kind: string, specs: readonly T[], problems: Problems): T[] {
  const byName = new Map<string, T>();
  for (const spec of specs) {
    const previous = byName.get(spec.name);
    if (previous === undefined) byName.set(spec.name, spec);
    else if (JSON.stringify(previous) !== JSON.stringify(spec)) problems.for(kind, spec.name).add("name", "is defined twice, differently");
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** One name space across kinds, so `strata registry show <name>` and `strata lineage <name>` are unambiguous. */
function checkNamesUnique(repo: RepoSpec, problems: Problems): void {
  const owners = new Map<string, string>();
  const all: [string, { name: string }[]][] = [
    ["entity", [...repo.entities]],
    ["featureView", [...repo.featureViews]],
    ["featureService", [...repo.featureServices]],
  ];
  for (const [kind, specs] of all) {
    for (const { name } of specs) {
      const other = owners.get(name);
      if (other !== undefined) problems.for(kind, name).add("name", `is also the name of ${other === "entity" ? "an" : "a"} ${other}; names must be unique across entities, views and services`);
      owners.set(name, kind);
    }
  }
}
