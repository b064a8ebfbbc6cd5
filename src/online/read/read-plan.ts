import { hopGroups, type HopGroup } from "../../aggregation/tile-partials.js";
import { fullFeatureName } from "../../definitions/feature-ref.js";
import type { JoinKeySpec } from "../../definitions/specs.js";
import { valueTypeFromName, type ValueType } from "../../definitions/value-type.js";
import { FeatureNameCollisionError, InvalidRequestError } from "../../errors.js";
import type { RegistrySnapshot } from "../../registry/registry-records.js";
import { resolveFeatureRefs, resolveFeatureService } from "../../registry/resolve-features.js";
import type { ViewRef } from "../online-store.js";

export interface PlannedFeature {
  readonly name: string;
  readonly type: ValueType;
  /** The response column name: `feature`, or `view__feature` with full feature names. */
  readonly output: string;
}

export interface PlannedView {
  readonly ref: ViewRef;
  readonly joinKeys: readonly JoinKeySpec[];
  readonly ttlSeconds: number | null;
  readonly features: readonly PlannedFeature[];
  /** Aggregation views: records hold tile state, and values are computed from it at the read time. */
  readonly tileGroups?: readonly HopGroup[];
}

/** What one online read asks for, resolved against the registry once and reused. */
export interface ReadPlan {
  readonly views: readonly PlannedView[];
  /** Every join key any view needs, in order of first appearance. */
  readonly joinKeys: readonly JoinKeySpec[];
}

export interface FeatureSelection {
  readonly features?: readonly string[];
  readonly featureService?: string;
  readonly fullFeatureNames?: boolean;
}

/** Resolves "view:feature" refs or a feature service into a plan; unknown names are request errors. */
export function planRead(snapshot: RegistrySnapshot, selection: FeatureSelection): ReadPlan {
  const hasFeatures = selection.features !== undefined && selection.features.length > 0;
  if (hasFeatures === (selection.featureService !== undefined)) throw new InvalidRequestError("request either features (a list of view:feature) or a feature_service");
  const resolved = hasFeatures ? resolveFeatureRefs(snapshot, selection.features) : resolveFeatureService(snapshot, selection.featureService!);
  const outputs = new Set<string>();
  const joinKeys: JoinKeySpec[] = [];
  const views = resolved.map(({ record, features }) => {
    for (const key of record.spec.joinKeys) if (!joinKeys.some((k) => k.name === key.name)) joinKeys.push(key);
    return {
      ref: { view: record.name, version: record.version },
      joinKeys: record.spec.joinKeys,
      ttlSeconds: record.spec.ttlSeconds,
      ...(record.spec.aggregation === undefined ? {} : { tileGroups: hopGroups(record.spec.aggregation.aggregates) }),
      features: features.map((f) => {
        const output = selection.fullFeatureNames === true ? fullFeatureName(record.name, f.name) : f.name;
        if (outputs.has(output)) throw new FeatureNameCollisionError(`feature name "${output}" is requested twice (from two views); set full_feature_names`);
        outputs.add(output);
        return { name: f.name, type: valueTypeFromName(f.type)!, output };
      }),
    };
  });
  return { views, joinKeys };
}
