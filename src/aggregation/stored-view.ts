import type { FeatureViewSpec } from "../definitions/specs.js";

/**
 * The view as its offline data stores it. A feature view stores its features; an aggregation
 * view stores its raw events (its event log), from which the aggregates are computed.
 */
export function storedView(spec: FeatureViewSpec): FeatureViewSpec {
  return spec.aggregation === undefined ? spec : { ...spec, features: spec.aggregation.events };
}
