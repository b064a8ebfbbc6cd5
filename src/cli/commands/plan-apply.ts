import type { Command } from "commander";
import { withStore } from "../context.js";
import { printJson } from "../output.js";
import { renderPlan } from "../render-plan.js";

export function registerPlanApply(program: Command): void {
  program
    .command("plan")
    .description("show how the definitions differ from the registry (added / changed / removed, and what breaks)")
    .option("--json", "machine-readable output")
    .action(async (options: { json?: boolean }, command: Command) => {
      await withStore(command, async (store) => {
        const report = await store.plan();
        if (options.json === true) printJson({ ...report.plan, repo: undefined, sources: report.sources });
        else console.log(renderPlan(report));
        if (report.sources.problems.length > 0) process.exitCode = 1;
      });
    });
  program
    .command("apply")
    .description("record the definitions in the registry (a breaking change to a view creates a new version)")
    .option("--json", "machine-readable output")
    .action(async (options: { json?: boolean }, command: Command) => {
      await withStore(command, async (store) => {
        const result = await store.apply();
        if (options.json === true) printJson({ ...result.plan, repo: undefined, revision: result.revision, sources: result.sources });
        else {
          console.log(renderPlan({ plan: result.plan, sources: result.sources }));
          console.log(result.plan.changes.length === 0 ? "Nothing to apply." : `Applied: registry revision ${result.revision}.`);
        }
      });
    });
}
