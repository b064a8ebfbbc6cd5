import type { Command } from "commander";
import { parseTimestamp } from "../../online/coerce-value.js";
import { buildSnapshot } from "../../online/snapshot/build-snapshot.js";
import { withStore } from "../context.js";
import { formatTable, printJson } from "../output.js";
import { terminalProgress } from "../progress-bar.js";

const time = (value: string): Date => parseTimestamp(value, "the time");

export function registerMaterialize(program: Command): void {
  const run = (incremental: boolean) => async (views: string[], options: { start?: string; end?: string; json?: boolean }, command: Command) =>
    withStore(command, async (store) => {
      const progress = terminalProgress();
      const reports = await store
        .materialize({
          views: views.length === 0 ? undefined : views,
          start: options.start === undefined ? undefined : time(options.start),
          end: options.end === undefined ? undefined : time(options.end),
          incremental,
          onProgress: progress.listener,
        })
        .finally(progress.done);
      if (options.json === true) return printJson(reports);
      for (const r of reports) {
        const range = `${new Date(r.start / 1000).toISOString()} .. ${new Date(r.end / 1000).toISOString()}`;
        console.log(r.skipped ? `${r.view} v${r.version}: ${range} already materialized` : `${r.view} v${r.version}: ${r.rows} entities (${r.applied} newer than stored) for ${range}${r.resumedFrom > 0 ? `, resumed after ${r.resumedFrom}` : ""} in ${r.seconds.toFixed(2)}s`);
      }
    });
  program
    .command("materialize [views...]")
    .description("load the latest value per entity from the offline store into the online store, for event times in [start, end)")
    .option("--start <time>", "ISO-8601 start (default: the beginning)")
    .option("--end <time>", "ISO-8601 end (default: now)")
    .option("--json", "machine-readable output")
    .action(run(false));
  program
    .command("materialize-incremental [views...]")
    .description("materialize from each view's last materialized end (first run: end - ttl) up to --end")
    .option("--end <time>", "ISO-8601 end (default: now)")
    .option("--json", "machine-readable output")
    .action(run(true));
}

export function registerSnapshot(program: Command): void {
  program
    .command("snapshot")
    .description("the default-feature snapshot served when the online tier is degraded")
    .command("build")
    .description("write per-feature defaults (declared, else median / most frequent from offline data) to server.snapshot")
    .option("--json", "machine-readable output")
    .action(async (options: { json?: boolean }, command: Command) =>
      withStore(command, async (store) => {
        const file = await buildSnapshot(await store.engine(), store.config.offline.path, await store.snapshot(), store.config.server.snapshot);
        if (options.json === true) return printJson(file);
        console.log(formatTable(Object.entries(file.features).map(([feature, f]) => ({ feature, type: f.type, default: f.value, from: f.source }))));
        console.log(`Wrote ${store.config.server.snapshot}.`);
      }),
    );
}

/** `--entity driver_id=1001` or `--entity city=ams,zone=2`, repeated: column-major entities. */
function parseEntities(specs: readonly string[]): Record<string, string[]> {
  const columns: Record<string, string[]> = {};
  specs.forEach((spec, row) => {
    for (const pair of spec.split(",")) {
      const [name, value] = pair.split("=", 2);
      if (name === undefined || value === undefined || name === "") throw new Error(`--entity ${spec}: expected key=value[,key=value]`);
      (columns[name] ??= []).length = row;
      columns[name].push(value);
    }
  });
  return columns;
}

export function registerGet(program: Command): void {
  program
    .command("get")
    .description("print online feature values, as the feature server would serve them (for debugging)")
    .option("--features <refs>", "comma-separated view:feature references")
    .option("--service <name>", "a feature service instead of --features")
    .requiredOption("--entity <key=value>", "an entity (repeat for more; key=value,key=value for composite keys)", (v: string, all: string[]) => [...all, v], [])
    .option("--read-time <time>", "read as of this time (ttl and statuses), ISO-8601")
    .option("--full-feature-names", "name columns view__feature")
    .option("--json", "machine-readable output")
    .action(async (options: { features?: string; service?: string; entity: string[]; readTime?: string; fullFeatureNames?: boolean; json?: boolean }, command: Command) =>
      withStore(command, async (store) => {
        const online = await store.online();
        const entities = parseEntities(options.entity);
        const selection = options.service !== undefined ? { featureService: options.service } : { features: (options.features ?? "").split(",").filter((f) => f !== "") };
        const { plan, result } = await online.read({ ...selection, fullFeatureNames: options.fullFeatureNames === true }, entities, options.readTime === undefined ? undefined : time(options.readTime).getTime());
        const names = plan.views.flatMap((v) => v.features.map((f) => f.output));
        const rows = Array.from({ length: result.rows }, (_, i) => ({
          ...Object.fromEntries(plan.joinKeys.map((k) => [k.name, entities[k.name]?.[i]])),
          ...Object.fromEntries(names.flatMap((n, c) => [[n, result.columns[c]!.values[i]], [`${n}:status`, result.columns[c]!.statuses[i]]])),
        }));
        if (options.json === true) return printJson({ rows, degraded: result.degraded, degradedReason: result.degradedReason, viewVersions: Object.fromEntries(plan.views.map((v) => [v.ref.view, v.ref.version])) });
        console.log(formatTable(rows));
        if (result.degraded) console.log(`degraded: ${result.degradedReason}`);
      }),
    );
}
