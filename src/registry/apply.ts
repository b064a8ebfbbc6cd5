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
 * committed first), with its audit entry in the same transaction when `audit` is given (signed with its key, if any).
 */
export async function applyRepo(store: RegistryStore, repo: RepoSpec, actor: string, audit?: { readonly key: string | undefined }): Promise<ApplyResult> {
  const snapshot = await store.load();
  const plan = computePlan(snapshot, repo);
  if (plan.changes.length === 0) return { plan, revision: snapshot.revision };
  const writes = planWrites(plan, snapshot, new Date().toISOString());
  const summary = plan.changes.map(describeChange);
  const entry: CommitAudit | undefined = audit === undefined ? undefined : { action: (revision) => ({ actor, action: "apply", object: "project", details: { revision, changes: summary } }), key: audit.key };
  const revision = await store.commit(snapshot.revision, writes, { actor, summary }, entry);
  return { plan, revision };
}

export function describeChange(change: PlanChange): string {
  const version = change.toVersion === undefined ? "" : change.fromVersion === undefined || change.fromVersion === change.toVersion ? ` v${change.toVersion}` : ` v${change.fromVersion} → v${change.toVersion}`;
  return `${change.action} ${change.kind} ${change.name}${version}${change.breaking ? " (breaking)" : ""}`;
}
