import type { BatchSourceSpec } from "../definitions/specs.js";
import { NotFoundError } from "../errors.js";
import { viewNames, type RegistrySnapshot, type ViewVersionRecord } from "./registry-records.js";

export interface VersionLineage {
  readonly version: number;
  readonly hash: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly removedAt: string | null;
  readonly services: readonly string[];
}

export interface ViewLineage {
  readonly name: string;
  readonly entities: readonly string[];
  readonly source: BatchSourceSpec;
  readonly versions: readonly VersionLineage[];
}

/** source → view versions → services, for a view, a service (its views) or an entity (its views). */
export type Lineage =
  | { readonly kind: "featureView"; readonly name: string; readonly views: readonly ViewLineage[] }
  | { readonly kind: "featureService"; readonly name: string; readonly views: readonly ViewLineage[] }
  | { readonly kind: "entity"; readonly name: string; readonly views: readonly ViewLineage[] };

function viewLineage(snapshot: RegistrySnapshot, name: string, keep: (v: ViewVersionRecord) => boolean = () => true): ViewLineage | undefined {
  const versions = snapshot.views.filter((v) => v.name === name && keep(v));
  const latest = versions.at(-1);
  if (latest === undefined) return undefined;
  return {
    name,
    entities: latest.spec.entities,
    source: latest.spec.source,
    versions: versions.map((v) => ({
      version: v.version,
      hash: v.hash,
      createdAt: v.createdAt,
      updatedAt: v.updatedAt,
      removedAt: v.removedAt,
      services: snapshot.services.filter((s) => s.bindings[name] === v.version).map((s) => s.spec.name),
    })),
  };
}

/**
 * Lineage of a name. Live objects win over history: a service, then a view with a live
 * version, then an entity, then a view whose versions were all removed.
 */
export function lineage(snapshot: RegistrySnapshot, name: string): Lineage {
  const service = snapshot.services.find((s) => s.spec.name === name);
  if (service !== undefined) {
    const views = service.spec.features.map((p) => viewLineage(snapshot, p.view, (v) => v.version === service.bindings[p.view])).filter((v) => v !== undefined);
    return { kind: "featureService", name, views };
  }
  if (viewNames(snapshot).includes(name)) return { kind: "featureView", name, views: [viewLineage(snapshot, name)!] };
  if (snapshot.entities.some((e) => e.spec.name === name)) {
    const usesEntity = (v: ViewVersionRecord): boolean => v.spec.entities.includes(name);
    const names = [...new Set(snapshot.views.filter(usesEntity).map((v) => v.name))];
    return { kind: "entity", name, views: names.map((n) => viewLineage(snapshot, n, usesEntity)).filter((v) => v !== undefined) };
  }
  const removed = viewLineage(snapshot, name);
  if (removed !== undefined) return { kind: "featureView", name, views: [removed] };
  throw new NotFoundError("registry object", name);
}
