import type { OnlineService } from "../online/online-service.js";
import type { EventPublisher } from "../stream/event-publisher.js";
import { App, type AppRequest, type AppResponse, type Handler } from "./app.js";
import { withHealthAndMetrics } from "./health-and-metrics.js";
import { feastOnlineFeatures, nativeOnlineFeatures } from "./routes/online-features.js";
import { push, writeToOnlineStore, type OfflineIngest } from "./routes/writes.js";

export interface ServerDeps {
  readonly online: OnlineService;
  readonly offlineIngest: OfflineIngest;
  /** Where `/push` sends aggregation views' events (their JetStream subject); absent: such pushes are refused. */
  readonly publishEvents?: EventPublisher;
}

/**
 * The feature server: Feast-compatible routes (`/get-online-features`, `/push`,
 * `/write-to-online-store`, `/health`), the native read route (`/v1/online-features`) and
 * `/metrics`. In-process testable: `createServerApp(deps).handle(request)`.
 */
export function createServerApp(deps: ServerDeps): App {
  const { online } = deps;
  const limit = online.config.server.maxEntities;
  const timed = (route: string, handler: Handler): Handler => {
    const duration = online.metrics.requestDuration.bind({ route });
    return async (request: AppRequest): Promise<AppResponse> => {
      const started = performance.now();
      try {
        return await handler(request);
      } finally {
        duration.observe((performance.now() - started) / 1000);
      }
    };
  };
  const app = new App()
    .route("POST", "/get-online-features", timed("/get-online-features", feastOnlineFeatures(online, limit)))
    .route("POST", "/v1/online-features", timed("/v1/online-features", nativeOnlineFeatures(online, limit)))
    .route("POST", "/push", timed("/push", push(online, deps.offlineIngest, limit, deps.publishEvents)))
    .route("POST", "/write-to-online-store", timed("/write-to-online-store", writeToOnlineStore(online, limit)));
  return withHealthAndMetrics(app, online);
}
