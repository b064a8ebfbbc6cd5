import type { PlanReport } from "../feature-store.js";
import type { PlanChange } from "../registry/plan.js";

const symbols: Record<PlanChange["action"], string> = { add: "+", update: "~", "new-version": "+", remove: "-" };

function headline(c: PlanChange): string {
  const version =
    c.action === "new-version" ? ` v${c.fromVersion} → v${c.toVersion} (new version beside v${c.fromVersion})` : c.toVersion !== undefined ? ` v${c.toVersion}` : c.fromVersion !== undefined ? ` (all versions)` : "";
  return `  ${symbols[c.action]} ${c.kind} ${c.name}${version}${c.breaking ? "  [breaking]" : ""}`;
}

/** The human form of a plan: one line per change, its field-level details indented under it. */
export function renderPlan({ plan, sources }: PlanReport): string {
  const lines = [`Plan for project "${plan.project}" (registry revision ${plan.baseRevision}):`];
  for (const change of plan.changes) {
    lines.push(headline(change));
    for (const detail of change.details) lines.push(`      ${detail}`);
  }
  if (plan.changes.length === 0) lines.push("  no changes: the registry matches the definitions");
  const count = (f: (c: PlanChange) => boolean): number => plan.changes.filter(f).length;
  lines.push(
    `${count((c) => c.action === "add")} to add, ${count((c) => c.action === "update" || c.action === "new-version")} to change ` +
      `(${count((c) => c.action === "new-version")} new versions), ${count((c) => c.action === "remove")} to remove, ` +
      `${count((c) => c.breaking)} breaking; ${plan.unchanged} unchanged.`,
  );
  for (const warning of sources.warnings) lines.push(`warning: ${warning}`);
  for (const problem of sources.problems) lines.push(`problem: ${problem}`);
  return lines.join("\n");
}
