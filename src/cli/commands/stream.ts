import type { Command } from "commander";
import { FeatureStore } from "../../feature-store.js";
import { readCommits } from "../../offline/commit-log.js";
import type { LineBatch } from "../../offline/line-batch.js";
import { ViewVersionLayout } from "../../offline/offline-layout.js";
import { latestVersion, viewNames, type ViewVersionRecord } from "../../registry/registry-records.js";
import { InvalidRequestError } from "../../errors.js";
import { runNatsStreams } from "../../stream/nats-runner.js";
import { App } from "../../server/app.js";
import { withHealthAndMetrics } from "../../server/health-and-metrics.js";
import { startHttpServer } from "../../server/http-server.js";
import { projectDir } from "../context.js";
import { printJson } from "../output.js";

export function registerStream(program: Command): void {
  const stream = program.command("stream").description("streaming aggregation views");
  stream
    .command("run [views...]")
    .description("consume the aggregation views' NATS JetStream subjects into the online store and the offline event log, until stopped (SIGINT/SIGTERM)")
    .option("--json", "print a JSON summary when stopped")
    .option("--port <port>", "serve GET /metrics (freshness, events, dead letters, consumer lag) and /health here (default: stream.metricsPort, 6567; 0: any free port)", (v) => Number.parseInt(v, 10))
    .action(async (names: string[], options: { json?: boolean; port?: number }, command: Command) => {
      const store = await FeatureStore.open(projectDir(command));
      const snapshot = await store.snapshot();
      const streamed = viewNames(snapshot).map((n) => latestVersion(snapshot, n)!).filter((r) => (r.spec.aggregation?.nats ?? null) !== null);
      const views = names.length === 0 ? streamed : names.map((n) => streamed.find((r) => r.name === n) ?? failNotStreamed(n));
      if (views.length === 0) throw new InvalidRequestError("no aggregation view reads from a NATS stream source; define one with streamSource({ nats: ... })");
      const online = await store.online({ role: "batch" });
      const deps = {
        project: store.config.project,
        online,
        appendOffline: async (record: ViewVersionRecord, lines: LineBatch, label: string) => {
          await store.ingestEventLines(record, lines, label);
        },
        erasures: () => store.registry.erasures(),
        offlineSources: async (record: ViewVersionRecord) => (await readCommits(new ViewVersionLayout(store.config.offline.path, record.name, record.version))).map((c) => c.source),
      };
      const metricsServer = await startHttpServer(withHealthAndMetrics(new App(), online), { host: store.config.server.host, port: options.port ?? store.config.stream.metricsPort, bodyLimitBytes: 1024 });
      const abort = new AbortController();
      process.once("SIGINT", () => abort.abort());
      process.once("SIGTERM", () => abort.abort());
      if (options.json !== true) console.log(`Streaming ${views.map((v) => `${v.name} v${v.version}`).join(", ")} from ${store.config.stream.nats.url}; metrics on http://${store.config.server.host}:${metricsServer.port}/metrics`);
      const summary = await runNatsStreams(deps, views, store.config.stream, abort.signal);
      await metricsServer.close();
      await store.close();
      const ms = (s: number | null): string => (s === null ? "n/a" : `${(s * 1000).toFixed(0)} ms`);
      if (options.json === true) printJson({ views: summary, peakRssMb: process.resourceUsage().maxRSS / 1024 });
      else for (const v of summary) console.log(`${v.view}: ${v.events} events applied, ${v.deadLetters} dead letters, freshness p50 ${ms(v.freshnessP50)} p99 ${ms(v.freshnessP99)}`);
    });
}

function failNotStreamed(name: string): never {
  throw new InvalidRequestError(`"${name}" is not an aggregation view with a NATS stream source`);
}
