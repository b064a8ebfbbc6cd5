import type { AggregationView } from "./aggregation-view.js";
import type { FeatureView } from "./feature-view.js";

/** Some features of one view, as used by a feature service. */
export interface FeatureViewProjection {
  readonly kind: "featureViewProjection";
  readonly view: FeatureView | AggregationView;
  readonly features: readonly string[];
}

/**
 * Selects some features of a view for a service.
 *
 * @example
 * featureService({ name: "ranking", features: [select(driverStats, ["conv_rate"])] });
 */
export function select(view: FeatureView | AggregationView, features: readonly string[]): FeatureViewProjection {
  return Object.freeze({ kind: "featureViewProjection", view, features: Object.freeze([...features]) });
}

/**
 * A feature service: the named set of features one model consumes.
 *
 * @example
 * const driverRanking = featureService({ name: "driver_ranking", features: [driverStats] });
 */
export interface FeatureServiceInput {
  readonly name: string;
  readonly features: readonly (FeatureView | AggregationView | FeatureViewProjection)[];
  readonly description?: string;
  readonly owner?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface FeatureService extends FeatureServiceInput {
  readonly kind: "featureService";
}

export function featureService(input: FeatureServiceInput): FeatureService {
  return Object.freeze({ ...input, kind: "featureService" });
}
