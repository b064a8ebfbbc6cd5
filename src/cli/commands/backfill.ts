import type { Command } from "commander";
import { withStore } from "../context.js";
import { printJson } from "../output.js";
import { terminalProgress } from "../progress-bar.js";

export function registerBackfill(program: Command): void {
  program
    .command("backfill <view>")
    .description("build or refresh an aggregation view's tiles from its event log (only dates with new events)")
    .option("--json", "machine-readable output")
    .action(async (view: string, options: { json?: boolean }, command: Command) => {
      await withStore(command, async (store) => {
        const progress = terminalProgress();
        const report = await store.backfill(view, { onProgress: progress.listener }).finally(progress.done);
        if (options.json === true) printJson(report);
        else if (report.dates === 0) console.log(`The tiles of ${view} v${report.version} are current (event log commit ${report.upToCommit}).`);
        else console.log(`Built the tiles of ${report.dates} dates of ${view} v${report.version} (up to event log commit ${report.upToCommit}) in ${report.seconds.toFixed(2)}s.`);
      });
    });
}
