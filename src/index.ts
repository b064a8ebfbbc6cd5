/**
 * Strata's public API: the definitions SDK (what `features.ts` imports) and the library
 * behind the `strata` CLI.
 *
 * @example
 * import { entity, batchSource, featureView, featureService, Float32, Int64 } from "strata";
 */
export { entity, type Entity, type EntityInput } from "./definitions/entity.js";
export { batchSource, type BatchSource, type BatchSourceInput } from "./definitions/batch-source.js";
export { featureView, type FeatureView, type FeatureViewInput, type FieldInput } from "./definitions/feature-view.js";
export { aggregationView, type AggregationView, type AggregationViewInput, type AggregationInput } from "./definitions/aggregation-view.js";
export { streamSource, type StreamSource, type StreamSourceInput } from "./definitions/stream-source.js";
export { pushSource, type PushSource, type PushSourceInput } from "./definitions/push-source.js";
export { featureService, select, type FeatureService, type FeatureServiceInput, type FeatureViewProjection } from "./definitions/feature-service.js";
export { Int32, Int64, Float32, Float64, String, Bool, Timestamp, Bytes, arrayOf, type ValueType } from "./definitions/value-type.js";
export { parseDuration, formatDuration } from "./definitions/duration.js";
export { collectDefinitions, type Definition } from "./definitions/collect-definitions.js";
export { compileDefinitions } from "./definitions/compile-definitions.js";
export { parseFeatureRef, fullFeatureName, type FeatureRef } from "./definitions/feature-ref.js";
export type * from "./definitions/specs.js";
export * from "./errors.js";
export { FeatureStore, type PlanReport, type TrainingSetRequest } from "./feature-store.js";
export type { TrainingSet, ViewMatch } from "./offline/training-set.js";
export type { IngestReport } from "./offline/ingest.js";
export type { Plan, PlanChange } from "./registry/plan.js";
export type { Lineage } from "./registry/lineage.js";
export { loadProjectConfig, resolveProjectConfig } from "./config/load-project-config.js";
export type { ProjectConfig } from "./config/project-config.js";
