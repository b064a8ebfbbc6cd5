import { formatDuration } from "../definitions/duration.js";
import type { EntitySpec, FeatureServiceSpec, FeatureViewSpec, JoinKeySpec, Metadata } from "../definitions/specs.js";
import { canonicalJson } from "../util/canonical-json.js";

/** Field-level differences between two versions of a definition, split by whether consumers break. */
export interface SpecDiff {
  readonly breaking: string[];
  readonly additive: string[];
}

const same = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);
const keys = (k: readonly JoinKeySpec[]): string => k.map((j) => `${j.name}:${j.type}`).join(", ");
const ttl = (s: number | null): string => (s === null ? "none" : formatDuration(s));

function diffMetadata(before: Metadata, after: Metadata, diff: SpecDiff): void {
  for (const field of ["description", "owner"] as const) {
    if (before[field] !== after[field]) diff.additive.push(`${field}: ${JSON.stringify(before[field])} → ${JSON.stringify(after[field])}`);
  }
  if (!same(before.tags, after.tags)) diff.additive.push(`tags: ${canonicalJson(before.tags)} → ${canonicalJson(after.tags)}`);
}

export function diffEntity(before: EntitySpec, after: EntitySpec): SpecDiff {
  const diff: SpecDiff = { breaking: [], additive: [] };
  if (!same(before.joinKeys, after.joinKeys)) diff.breaking.push(`join keys: ${keys(before.joinKeys)} → ${keys(after.joinKeys)}`);
  diffMetadata(before, after, diff);
  return diff;
}

/**
 * Breaking: a removed or retyped feature, changed entities or join keys (stored data no longer
 * fits). Everything else (new features, ttl, source, metadata) keeps the version.
 */
export function diffFeatureView(before: FeatureViewSpec, after: FeatureViewSpec): SpecDiff {
  const diff: SpecDiff = { breaking: [], additive: [] };
  if (!same(before.entities, after.entities)) diff.breaking.push(`entities: ${before.entities.join(", ")} → ${after.entities.join(", ")}`);
  if (!same(before.joinKeys, after.joinKeys)) diff.breaking.push(`join keys: ${keys(before.joinKeys)} → ${keys(after.joinKeys)}`);
  // The event log's columns and the aggregates' meaning (hop included) are what stored tiles and stream state hold.
  if (before.aggregation?.transformHash !== after.aggregation?.transformHash) diff.breaking.push(`aggregation: ${before.aggregation?.transformHash.slice(0, 12) ?? "none"} → ${after.aggregation?.transformHash.slice(0, 12) ?? "none"}`);
  else if (!same(before.aggregation, after.aggregation)) diff.additive.push("aggregation: allowed lateness, stream or event column descriptions");
  const afterByName = new Map(after.features.map((f) => [f.name, f]));
  const beforeByName = new Map(before.features.map((f) => [f.name, f]));
  for (const old of before.features) {
    const next = afterByName.get(old.name);
    if (next === undefined) diff.breaking.push(`removed feature ${old.name} (${old.type})`);
    else if (next.type !== old.type) diff.breaking.push(`retyped feature ${old.name}: ${old.type} → ${next.type}`);
    else if (!same(old, next)) diff.additive.push(`changed description or default of feature ${old.name}`);
  }
  for (const next of after.features) if (!beforeByName.has(next.name)) diff.additive.push(`added feature ${next.name} (${next.type})`);
  const order = (spec: FeatureViewSpec): string[] => spec.features.map((f) => f.name).filter((n) => beforeByName.has(n) && afterByName.has(n));
  if (!same(order(before), order(after))) diff.additive.push("reordered features");
  if (before.ttlSeconds !== after.ttlSeconds) diff.additive.push(`ttl: ${ttl(before.ttlSeconds)} → ${ttl(after.ttlSeconds)}`);
  if (before.online !== after.online) diff.additive.push(`online: ${before.online} → ${after.online}`);
  if (!same(before.source, after.source)) diff.additive.push(`source: ${canonicalJson(before.source)} → ${canonicalJson(after.source)}`);
  if ((before.pushSource ?? null) !== after.pushSource) diff.additive.push(`push source: ${before.pushSource ?? "none"} → ${after.pushSource ?? "none"}`);
  diffMetadata(before, after, diff);
  return diff;
}

export function diffFeatureService(
  before: FeatureServiceSpec,
  after: FeatureServiceSpec,
  bindingsBefore: Readonly<Record<string, number>>,
  bindingsAfter: Readonly<Record<string, number>>,
): SpecDiff {
  const diff: SpecDiff = { breaking: [], additive: [] };
  const refs = (spec: FeatureServiceSpec): Set<string> => new Set(spec.features.flatMap((p) => p.features.map((f) => `${p.view}:${f}`)));
  const [was, now] = [refs(before), refs(after)];
  for (const ref of was) if (!now.has(ref)) diff.breaking.push(`removed feature ${ref}`);
  for (const ref of now) if (!was.has(ref)) diff.additive.push(`added feature ${ref}`);
  for (const [view, version] of Object.entries(bindingsAfter)) {
    const old = bindingsBefore[view];
    if (old !== undefined && old !== version) diff.breaking.push(`reads ${view} v${version} (was v${old})`);
  }
  diffMetadata(before, after, diff);
  return diff;
}
