import type { FeatureService } from "./feature-service.js";
import { checkMetadata, checkName, type Problems } from "./problems.js";
import type { FeatureServiceSpec, FeatureViewSpec } from "./specs.js";

/** Compiles one service; `viewSpecs` maps view objects already compiled to their specs. */
export function compileFeatureService(
  input: FeatureService,
  viewSpecs: ReadonlyMap<unknown, FeatureViewSpec>,
  problems: Problems,
): FeatureServiceSpec {
  checkName(problems, "name", input.name);
  const items = Array.isArray(input.features) ? input.features : [];
  if (items.length === 0) problems.add("features", "expected a non-empty list of feature views or select(view, [...]) projections");
  const features: { view: string; features: string[] }[] = [];
  for (const [i, item] of items.entries()) {
    const projected = (item as { kind?: unknown }).kind === "featureViewProjection";
    const view = viewSpecs.get(projected ? (item as { view: unknown }).view : item);
    if (view === undefined) {
      problems.add(`features[${i}]`, "is not a feature view or a select(view, [...]) projection");
      continue;
    }
    if (features.some((f) => f.view === view.name)) {
      problems.add(`features[${i}]`, `feature view "${view.name}" is listed twice; list it once with all the features you need`);
      continue;
    }
    const names = projected ? [...(item as { features: readonly string[] }).features] : view.features.map((f) => f.name);
    if (names.length === 0) problems.add(`features[${i}]`, `selects no feature of "${view.name}"`);
    for (const name of names) {
      if (!view.features.some((f) => f.name === name)) {
        problems.add(`features[${i}]`, `feature view "${view.name}" has no feature "${name}" (it has ${view.features.map((f) => f.name).join(", ")})`);
      }
    }
    if (new Set(names).size !== names.length) problems.add(`features[${i}]`, `selects a feature of "${view.name}" twice`);
    features.push({ view: view.name, features: names });
  }
  return { name: input.name, features, ...checkMetadata(problems, input) };
}
