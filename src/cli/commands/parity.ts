import type { Command } from "commander";
import { withStore } from "../context.js";
import { printJson } from "../output.js";

export function registerParity(program: Command): void {
  program
    .command("parity <view>")
    .description("replay a sample of an aggregation view's offline events through the streaming state and compare with the batch values; exit 1 on any mismatch")
    .option("--sample <keys>", "entity keys to sample (default 200)", (v) => Number.parseInt(v, 10))
    .option("--json", "machine-readable output")
    .action(async (view: string, options: { sample?: number; json?: boolean }, command: Command) => {
      await withStore(command, async (store) => {
        const report = await store.parity(view, { sample: options.sample });
        if (options.json === true) printJson(report);
        else {
          console.log(`${view} v${report.version}: ${report.keys} keys, ${report.comparisons} comparisons, ${report.mismatches} mismatches (${(report.mismatchRate * 100).toFixed(3)}%)`);
          for (const m of report.examples) console.log(`  ${JSON.stringify(m.key)} at ${m.at} (${m.mode}) ${m.feature}: streaming ${String(m.online)}, batch ${String(m.batch)}`);
        }
        if (report.mismatches > 0) process.exitCode = 1;
      });
    });
}
