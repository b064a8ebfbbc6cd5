import type { EntitySpec, FeatureServiceSpec, FeatureViewSpec } from "../definitions/specs.js";

/** Rows of the registry, as both backends store them. Times are ISO-8601 strings (UTC). */
export interface EntityRecord {
  readonly spec: EntitySpec;
  readonly hash: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** One version of a feature view. A breaking change adds a version; v1 stays until removed explicitly. */
export interface ViewVersionRecord {
  readonly name: string;
  readonly version: number;
  readonly spec: FeatureViewSpec;
  readonly hash: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly removedAt: string | null;
}

export interface ServiceRecord {
  readonly spec: FeatureServiceSpec;
  readonly hash: string;
  /** View name → the version this service reads (the view's latest at apply time). */
  readonly bindings: Readonly<Record<string, number>>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface RegistrySnapshot {
  readonly project: string;
  /** Increases by one per commit; writers commit only against the revision they read. */
  readonly revision: number;
  readonly entities: readonly EntityRecord[];
  readonly views: readonly ViewVersionRecord[];
  readonly services: readonly ServiceRecord[];
}

export type RegistryWrite =
  | { readonly op: "putEntity"; readonly record: EntityRecord }
  | { readonly op: "deleteEntity"; readonly name: string }
  | { readonly op: "putViewVersion"; readonly record: ViewVersionRecord }
  | { readonly op: "removeViewVersion"; readonly name: string; readonly version: number; readonly removedAt: string }
  | { readonly op: "putService"; readonly record: ServiceRecord }
  | { readonly op: "deleteService"; readonly name: string };

export interface HistoryEntry {
  readonly revision: number;
  readonly appliedAt: string;
  readonly actor: string;
  readonly summary: readonly string[];
}

export function emptySnapshot(project: string): RegistrySnapshot {
  return { project, revision: 0, entities: [], views: [], services: [] };
}

/** The versions of `name` not removed, oldest first. */
export function activeVersions(snapshot: RegistrySnapshot, name: string): ViewVersionRecord[] {
  return snapshot.views.filter((v) => v.name === name && v.removedAt === null).sort((a, b) => a.version - b.version);
}

/** The version a reference without `@vN` means: the newest one not removed. */
export function latestVersion(snapshot: RegistrySnapshot, name: string): ViewVersionRecord | undefined {
  return activeVersions(snapshot, name).at(-1);
}

export function viewNames(snapshot: RegistrySnapshot): string[] {
  return [...new Set(snapshot.views.filter((v) => v.removedAt === null).map((v) => v.name))].sort();
}
