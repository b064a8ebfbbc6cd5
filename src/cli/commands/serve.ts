import type { Command } from "commander";
import { AccessControl } from "../../access/access-control.js";
import { createServerApp } from "../../server/create-server-app.js";
import { startHttpServer } from "../../server/http-server.js";
import { FeatureStore } from "../../feature-store.js";
import { ServingLog } from "../../serving-log/serving-log.js";
import { watchErasures } from "../../erasure/erasure-watch.js";
import { natsEventPublisher } from "../../stream/event-publisher.js";
import { projectDir } from "../context.js";

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("run the feature server (Feast-compatible routes, /v1/online-features, /metrics)")
    .option("--port <port>", "port (default: server.port, 6566)", (v) => Number.parseInt(v, 10))
    .option("--host <host>", "address to bind (default: server.host, 127.0.0.1)")
    .action(async (options: { port?: number; host?: string }, command: Command) => {
      const store = await FeatureStore.open(projectDir(command));
      const online = await store.online();
      const publisher = natsEventPublisher(store.config.stream.nats.url);
      const { server } = store.config;
      const reads = store.readAuditor();
      const servingLog = ServingLog.fromConfig(store.config, online.metrics.registry);
      const app = createServerApp({
        online,
        offlineIngest: (record, rows, ts) => store.ingestRows(record, rows, ts),
        publishEvents: publisher.publish,
        access: server.requireTokens ? new AccessControl(() => store.registry.tokens(), server.registryRefreshSeconds * 1000) : undefined,
        reads,
        servingLog,
        erase: (request) => store.erase(request),
      });
      const stopWatching = watchErasures(online, () => store.registry.erasures(), server.erasurePollSeconds * 1000);
      const running = await startHttpServer(app, { host: options.host ?? server.host, port: options.port ?? server.port, bodyLimitBytes: server.bodyLimitBytes });
      const cache = store.config.online.cache.type;
      console.log(`Strata feature server for project "${store.config.project}" on http://${options.host ?? server.host}:${running.port} (cache: ${cache}, durable store: ${store.config.online.type})`);
      const stop = (): void => {
        void running
          .close()
          .then(stopWatching)
          .then(() => publisher.close())
          .then(() => reads?.drained())
          .then(() => servingLog?.close())
          .then(() => {
            const dropped = servingLog?.metrics.dropped;
            const lost = (dropped?.value({ reason: "write_failed" }) ?? 0) + (dropped?.value({ reason: "unloggable" }) ?? 0);
            if (lost > 0) console.error(`serving log: ${lost} response(s) could not be written and were given up (strata_serving_log_dropped_total has them by reason)`);
          })
          .then(() => store.close()).finally(() => process.exit(0));
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
}
