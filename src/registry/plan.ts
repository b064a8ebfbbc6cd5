import type { FeatureServiceSpec, RepoSpec } from "../definitions/specs.js";
import { diffEntity, diffFeatureService, diffFeatureView, type SpecDiff } from "./diff-specs.js";
import { latestVersion, viewNames, type RegistrySnapshot } from "./registry-records.js";

export type ChangeAction = "add" | "update" | "new-version" | "remove";

export interface PlanChange {
  readonly kind: "entity" | "featureView" | "featureService";
  readonly name: string;
  readonly action: ChangeAction;
  readonly breaking: boolean;
  readonly details: readonly string[];
  /** Views only: the version before and after. */
  readonly fromVersion?: number;
  readonly toVersion?: number;
}

/** What `apply` would change, computed purely from the registry snapshot and the definitions. */
export interface Plan {
  readonly project: string;
  readonly baseRevision: number;
  readonly repo: RepoSpec;
  readonly changes: readonly PlanChange[];
  /** View name → version every view will have after apply (what services bind to). */
  readonly versions: Readonly<Record<string, number>>;
  readonly unchanged: number;
}

/**
 * Diffs definitions against the registry.
 *
 * @example
 * const plan = computePlan(await registry.load(), repo);
 * plan.changes.filter((c) => c.breaking); // e.g. a retyped feature → action "new-version"
 */
export function computePlan(snapshot: RegistrySnapshot, repo: RepoSpec): Plan {
  const changes: PlanChange[] = [];
  let unchanged = 0;
  const record = (change: Omit<PlanChange, "breaking" | "details">, diff: SpecDiff | undefined, breaking = false): void => {
    const details = diff === undefined ? [] : [...diff.breaking, ...diff.additive];
    if (change.action === "update" && details.length === 0) unchanged++;
    else changes.push({ ...change, breaking: breaking || (diff?.breaking.length ?? 0) > 0, details });
  };

  const entities = new Map(snapshot.entities.map((e) => [e.spec.name, e]));
  for (const spec of repo.entities) {
    const old = entities.get(spec.name);
    record({ kind: "entity", name: spec.name, action: old === undefined ? "add" : "update" }, old && diffEntity(old.spec, spec));
  }
  const wanted = new Set(repo.entities.map((e) => e.name));
  for (const name of entities.keys()) if (!wanted.has(name)) record({ kind: "entity", name, action: "remove" }, undefined, true);

  const versions: Record<string, number> = {};
  for (const spec of repo.featureViews) {
    const old = latestVersion(snapshot, spec.name);
    const next = nextVersion(snapshot, spec.name);
    if (old === undefined) {
      versions[spec.name] = next;
      record({ kind: "featureView", name: spec.name, action: "add", toVersion: next }, undefined);
      continue;
    }
    const diff = diffFeatureView(old.spec, spec);
    const bump = diff.breaking.length > 0;
    versions[spec.name] = bump ? next : old.version;
    record({ kind: "featureView", name: spec.name, action: bump ? "new-version" : "update", fromVersion: old.version, toVersion: versions[spec.name] }, diff);
  }
  const views = new Set(repo.featureViews.map((v) => v.name));
  for (const name of viewNames(snapshot)) {
    if (!views.has(name)) record({ kind: "featureView", name, action: "remove", fromVersion: latestVersion(snapshot, name)?.version }, undefined, true);
  }

  const services = new Map(snapshot.services.map((s) => [s.spec.name, s]));
  for (const spec of repo.featureServices) {
    const old = services.get(spec.name);
    const diff = old && diffFeatureService(old.spec, spec, old.bindings, serviceBindings(spec, versions));
    record({ kind: "featureService", name: spec.name, action: old === undefined ? "add" : "update" }, diff);
  }
  const wantedServices = new Set(repo.featureServices.map((s) => s.name));
  for (const name of services.keys()) if (!wantedServices.has(name)) record({ kind: "featureService", name, action: "remove" }, undefined, true);

  return { project: snapshot.project, baseRevision: snapshot.revision, repo, changes, versions, unchanged };
}

/** Versions are never reused, even after removal, so `view@v2` always means one definition. */
export function nextVersion(snapshot: RegistrySnapshot, name: string): number {
  return Math.max(0, ...snapshot.views.filter((v) => v.name === name).map((v) => v.version)) + 1;
}

export function serviceBindings(spec: FeatureServiceSpec, versions: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(spec.features.map((p) => [p.view, versions[p.view] ?? 0]));
}
