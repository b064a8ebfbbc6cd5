import { resolve } from "node:path";
import type { Command } from "commander";
import { InvalidRequestError } from "../../errors.js";
import type { FeatureStore } from "../../feature-store.js";
import type { TrainingSet } from "../../offline/training-set.js";
import type { ProgressListener } from "../../util/progress.js";
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
  fromServingLog?: boolean;
  json?: boolean;
}

/** Point-in-time options that mean nothing for features already served. */
const pointInTimeOnly = ["features", "service", "inclusive", "asOfIngestion", "timestampColumn"] as const;
const flagOf = (option: string): string => `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Builds the set the options ask for: point in time from the offline store, or as served from the serving log. */
async function build(store: FeatureStore, options: TrainingSetOptions, command: Command, listener: ProgressListener): Promise<TrainingSet> {
  if (options.fromServingLog !== true) {
    return store.getHistoricalFeatures({
      entities: resolve(options.entities),
      features: options.features?.split(",").map((f) => f.trim()).filter((f) => f !== ""),
      service: options.service,
      timestampColumn: options.timestampColumn,
      inclusive: options.inclusive === true,
      asOfIngestion: options.asOfIngestion === true,
      fullFeatureNames: options.fullFeatureNames === true,
      onProgress: listener,
    });
  }
  const given = pointInTimeOnly.filter((o) => command.getOptionValueSource(o) === "cli");
  if (given.length > 0) throw new InvalidRequestError(`--from-serving-log takes the features as they were served: drop ${given.map(flagOf).join(", ")}`);
  const { set, unmatched } = await store.trainingSetFromServingLog({ labels: resolve(options.entities), fullFeatureNames: options.fullFeatureNames === true, onProgress: listener });
  if (unmatched > 0) process.stderr.write(`${unmatched} of ${set.rowCount} label rows have no logged request (or row): their features are null\n`);
  return set;
}

export function registerTrainingSet(program: Command): void {
  program
    .command("training-set")
    .description("build a point-in-time-correct training set: for each entity row, the latest feature values strictly before its time (or, --from-serving-log, the values served)")
    .requiredOption("--entities <file>", "entity rows (Parquet or CSV): join keys, a timestamp, any extra columns (labels); with --from-serving-log: request_id, row_index or the join keys, labels")
    .option("--features <refs>", "comma-separated view:feature references (view@v1:feature pins a version)")
    .option("--service <name>", "a feature service instead of --features")
    .requiredOption("--out <file>", "output file, .parquet or .csv")
    .option("--inclusive", "also take feature rows exactly at the entity time (event_timestamp <= t)")
    .option("--as-of-ingestion", "only feature rows ingested (created) by the entity time")
    .option("--full-feature-names", "name output columns view__feature")
    .option("--timestamp-column <name>", "the entity rows' time column", "event_timestamp")
    .option("--from-serving-log", "join the labels to the features as served (the serving log), by request_id")
    .option("--json", "machine-readable summary")
    .action(async (options: TrainingSetOptions, command: Command) => {
      await withStore(command, async (store) => {
        const started = performance.now();
        const progress = terminalProgress();
        const set = await build(store, options, command, progress.listener)
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
