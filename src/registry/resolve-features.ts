import { parseFeatureRef } from "../definitions/feature-ref.js";
import type { FeatureSpec } from "../definitions/specs.js";
import { FeatureNameCollisionError, InvalidRequestError, NotFoundError } from "../errors.js";
import { activeVersions, latestVersion, viewNames, type RegistrySnapshot, type ViewVersionRecord } from "./registry-records.js";

/** Features requested from one view version, in the order asked. */
export interface ResolvedViewFeatures {
  readonly record: ViewVersionRecord;
  readonly features: readonly FeatureSpec[];
}

/**
 * Resolves "view:feature" / "view@v1:feature" references against the registry, grouping by
 * view in order of first mention. Unknown views, versions or features are request errors.
 */
export function resolveFeatureRefs(snapshot: RegistrySnapshot, refs: readonly string[]): ResolvedViewFeatures[] {
  if (refs.length === 0) throw new InvalidRequestError("no features requested");
  const groups = new Map<string, { record: ViewVersionRecord; features: FeatureSpec[] }>();
  for (const text of refs) {
    const ref = parseFeatureRef(text);
    const record = ref.version === null ? latestVersion(snapshot, ref.view) : activeVersions(snapshot, ref.view).find((v) => v.version === ref.version);
    if (record === undefined) {
      const known = ref.version === null ? `known views: ${viewNames(snapshot).join(", ") || "none (run strata apply)"}` : `versions: ${activeVersions(snapshot, ref.view).map((v) => `v${v.version}`).join(", ") || "none"}`;
      throw new NotFoundError("feature view", ref.version === null ? ref.view : `${ref.view}@v${ref.version}`, known);
    }
    const group = groups.get(record.name) ?? { record, features: [] };
    if (group.record.version !== record.version) {
      throw new InvalidRequestError(`feature view "${record.name}" is requested at both v${group.record.version} and v${record.version}; request one version at a time`);
    }
    const feature = record.spec.features.find((f) => f.name === ref.feature);
    if (feature === undefined) {
      throw new NotFoundError("feature", `${record.name}:${ref.feature}`, `v${record.version} has ${record.spec.features.map((f) => f.name).join(", ")}`);
    }
    if (group.features.some((f) => f.name === feature.name)) throw new FeatureNameCollisionError(`feature "${text}" is requested twice`);
    group.features.push(feature);
    groups.set(record.name, group);
  }
  return [...groups.values()];
}

/** The features of a service, at the view versions it is bound to. */
export function resolveFeatureService(snapshot: RegistrySnapshot, name: string): ResolvedViewFeatures[] {
  const service = snapshot.services.find((s) => s.spec.name === name);
  if (service === undefined) throw new NotFoundError("feature service", name, `known services: ${snapshot.services.map((s) => s.spec.name).join(", ") || "none"}`);
  return resolveFeatureRefs(
    snapshot,
    service.spec.features.flatMap((p) => p.features.map((f) => `${p.view}@v${service.bindings[p.view] ?? 0}:${f}`)),
  );
}
