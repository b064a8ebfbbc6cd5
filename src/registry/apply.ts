import type { RepoSpec } from "../definitions/specs.js";
import { computePlan, type Plan, type PlanChange } from "./plan.js";
import { planWrites } from "./plan-writes.js";
import type { CommitAudit, RegistryStore } from "./registry-store.js";

export interface ApplyResult {
  readonly plan: Plan;
  /** The registry revision after apply (unchanged when there was nothing to do). */
  readonly revision: number;
}

/**
 * Plans against the current registry and commits the plan atomically (conflict if someone else
 * committed first), with its audit entry when `auditKey` is given (undefined: unsigned; null: none).
 */
export async function applyRepo(store: RegistryStore, repo: RepoSpec, actor: string, auditKey: string | undefined | null = null): Promise<ApplyResult> {
  const snapshot = await store.load();
  const plan = computePlan(snapshot, repo);
  if (plan.changes.length === 0) return { plan, revision: snapshot.revision };
  const writes = planWrites(plan, snapshot, new Date().toISOString());
  const summary = plan.changes.map(describeChange);
  const audit: CommitAudit | undefined = auditKey === null ? undefined : { action: (revision) => ({ actor, action: "apply", object: "project", details: { revision, changes: summary } }), key: auditKey };
  const revision = await store.commit(snapshot.revision, writes, { actor, summary }, audit);
  return { plan, revision };
}

export function describeChange(change: PlanChange): string {
  const version = change.toVersion === undefined ? "" : change.fromVersion === undefined || change.fromVersion === change.toVersion ? ` v${change.toVersion}` : ` v${change.fromVersion} → v${change.toVersion}`;
  return `${change.action} ${change.kind} ${change.name}${version}${change.breaking ? " (breaking)" : ""}`;
}
