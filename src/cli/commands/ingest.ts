import type { Command } from "commander";
import { withStore } from "../context.js";
import { printJson } from "../output.js";
import { terminalProgress } from "../progress-bar.js";

export function registerIngest(program: Command): void {
  program
    .command("ingest <view> [file]")
    .description("validate the view's source (or a Parquet/CSV file) and commit it to the offline store")
    .option("--json", "machine-readable output")
    .action(async (view: string, file: string | undefined, options: { json?: boolean }, command: Command) => {
      await withStore(command, async (store) => {
        const progress = terminalProgress();
        const report = await store.ingest(view, { file, onProgress: progress.listener }).finally(progress.done);
        if (options.json === true) printJson(report);
        else if (report.commit === null) console.log(`The input has no rows: nothing ingested into ${view} v${report.version}.`);
        else {
          const c = report.commit;
          console.log(
            `Ingested ${report.rows} rows into ${view} v${report.version} (commit ${c.seq}, ${c.files.length} partitions, ` +
              `${c.minEventTimestamp} .. ${c.maxEventTimestamp}) in ${report.seconds.toFixed(2)}s.`,
          );
        }
      });
    });
}
