import type { AggregationView } from "./aggregation-view.js";
import type { Entity } from "./entity.js";
import type { FeatureService } from "./feature-service.js";
import type { FeatureView } from "./feature-view.js";

export type Definition = Entity | FeatureView | AggregationView | FeatureService;

const definitionKinds = new Set(["entity", "featureView", "aggregationView", "featureService"]);

function isDefinition(value: unknown): value is Definition {
  return typeof value === "object" && value !== null && definitionKinds.has((value as { kind?: unknown }).kind as string);
}

/**
 * Gathers the definitions a module exports (directly or in exported arrays), plus the entities
 * and views they reference, so a view whose entity is not exported still registers it.
 * Identity-deduplicated; order of first appearance.
 */
export function collectDefinitions(moduleExports: Readonly<Record<string, unknown>>): Definition[] {
  const found = new Set<Definition>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(visit);
      return;
    }
    if (!isDefinition(value) || found.has(value)) return;
    found.add(value);
    if ((value.kind === "featureView" || value.kind === "aggregationView") && Array.isArray(value.entities)) value.entities.forEach(visit);
    if (value.kind === "featureService" && Array.isArray(value.features)) {
      for (const item of value.features) visit(isDefinition(item) ? item : (item as { view?: unknown } | undefined)?.view);
    }
  };
  Object.values(moduleExports).forEach(visit);
  return [...found];
}
