import { definitionHash } from "../util/canonical-json.js";
import { serviceBindings, type Plan } from "./plan.js";
import { activeVersions, latestVersion, type RegistrySnapshot, type RegistryWrite } from "./registry-records.js";

/** Turns a plan into the row writes that record it; `now` stamps created/updated times. */
export function planWrites(plan: Plan, snapshot: RegistrySnapshot, now: string): RegistryWrite[] {
  const writes: RegistryWrite[] = [];
  const changed = (kind: string, name: string): boolean => plan.changes.some((c) => c.kind === kind && c.name === name && c.action !== "remove");
  const entities = new Map(snapshot.entities.map((e) => [e.spec.name, e]));
  for (const spec of plan.repo.entities) {
    if (!changed("entity", spec.name)) continue;
    const createdAt = entities.get(spec.name)?.createdAt ?? now;
    writes.push({ op: "putEntity", record: { spec, hash: definitionHash(spec), createdAt, updatedAt: now } });
  }
  for (const spec of plan.repo.featureViews) {
    if (!changed("featureView", spec.name)) continue;
    const version = plan.versions[spec.name]!;
    const existing = snapshot.views.find((v) => v.name === spec.name && v.version === version);
    const record = { name: spec.name, version, spec, hash: definitionHash(spec), createdAt: existing?.createdAt ?? now, updatedAt: now, removedAt: null };
    writes.push({ op: "putViewVersion", record });
  }
  const services = new Map(snapshot.services.map((s) => [s.spec.name, s]));
  for (const spec of plan.repo.featureServices) {
    if (!changed("featureService", spec.name)) continue;
    const bindings = serviceBindings(spec, plan.versions);
    writes.push({ op: "putService", record: { spec, hash: definitionHash(spec), bindings, createdAt: services.get(spec.name)?.createdAt ?? now, updatedAt: now } });
  }
  for (const change of plan.changes) {
    if (change.action !== "remove") continue;
    if (change.kind === "entity") writes.push({ op: "deleteEntity", name: change.name });
    if (change.kind === "featureService") writes.push({ op: "deleteService", name: change.name });
    if (change.kind === "featureView") {
      for (const v of activeVersions(snapshot, change.name)) writes.push({ op: "removeViewVersion", name: v.name, version: v.version, removedAt: now });
    }
  }
  return writes;
}

/**
 * Removing one old version explicitly (the latest goes only by deleting the view from the
 * definitions, so services never lose the version they read). Returns the writes or a reason.
 */
export function removeVersionWrites(snapshot: RegistrySnapshot, name: string, version: number, now: string): RegistryWrite[] | string {
  const target = activeVersions(snapshot, name).find((v) => v.version === version);
  if (target === undefined) return `feature view "${name}" has no version v${version} to remove`;
  if (latestVersion(snapshot, name)?.version === version) {
    return `v${version} is the latest version of "${name}"; remove the view from the definitions and apply instead`;
  }
  return [{ op: "removeViewVersion", name, version, removedAt: now }];
}
