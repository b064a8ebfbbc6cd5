import { resolve } from "node:path";
import type { Command } from "commander";
import { withStore } from "../context.js";
import { printJson } from "../output.js";
import { terminalProgress } from "../progress-bar.js";

interface TrainingSetOptions {
  entities: string;
  features?: string;
  service?: string;
  out: string;
  inclusive?: boolean;
  asOfIngestion?: boolean;
  fullFeatureNames?: boolean;
  timestampColumn: string;
  json?: boolean;
}

export function registerTrainingSet(program: Command): void {
  program
    .command("training-set")
    .description("build a point-in-time-correct training set: for each entity row, the latest feature values strictly before its time")
    .requiredOption("--entities <file>", "entity rows (Parquet or CSV): join keys, a timestamp, any extra columns (labels)")
    .option("--features <refs>", "comma-separated view:feature references (view@v1:feature pins a version)")
    .option("--service <name>", "a feature service instead of --features")
    .requiredOption("--out <file>", "output file, .parquet or .csv")
    .option("--inclusive", "also take feature rows exactly at the entity time (event_timestamp <= t)")
    .option("--as-of-ingestion", "only feature rows ingested (created) by the entity time")
    .option("--full-feature-names", "name output columns view__feature")
    .option("--timestamp-column <name>", "the entity rows' time column", "event_timestamp")
    .option("--json", "machine-readable summary")
    .action(async (options: TrainingSetOptions, command: Command) => {
      await withStore(command, async (store) => {
        const started = performance.now();
        const progress = terminalProgress();
        const set = await store
          .getHistoricalFeatures({
            entities: resolve(options.entities),
            features: options.features?.split(",").map((f) => f.trim()).filter((f) => f !== ""),
            service: options.service,
            timestampColumn: options.timestampColumn,
            inclusive: options.inclusive === true,
            asOfIngestion: options.asOfIngestion === true,
            fullFeatureNames: options.fullFeatureNames === true,
            onProgress: progress.listener,
          })
          .then(async (result) => {
            progress.listener({ phase: "writing" });
            await result.write(resolve(options.out), (percent) => progress.listener({ phase: "writing", percent }));
            return result;
          })
          .finally(progress.done);
        const seconds = (performance.now() - started) / 1000;
        const summary = { out: resolve(options.out), rows: set.rowCount, views: set.views, seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 };
        await set.close();
        if (options.json === true) {
          printJson(summary);
          return;
        }
        console.log(`Wrote ${set.rowCount} rows to ${options.out} in ${seconds.toFixed(2)}s.`);
        for (const v of set.views) console.log(`  ${v.view} v${v.version}: ${v.matched} of ${set.rowCount} rows matched (${(v.matchRate * 100).toFixed(1)}%)`);
      });
    });
}
