import type { OnlineService } from "../online/online-service.js";
import type { EventPublisher } from "../stream/event-publisher.js";
import { allowAll, type AccessControl, type Authorize } from "../access/access-control.js";
import type { ReadAuditor } from "../audit/read-auditor.js";
import { App, type AppRequest, type AppResponse, type Handler } from "./app.js";
import { withHealthAndMetrics } from "./health-and-metrics.js";
import { feastOnlineFeatures, nativeOnlineFeatures } from "./routes/online-features.js";
import { push, writeToOnlineStore, type OfflineIngest } from "./routes/writes.js";

export interface ServerDeps {
  readonly online: OnlineService;
  readonly offlineIngest: OfflineIngest;
  /** Where `/push` sends aggregation views' events (their JetStream subject); absent: such pushes are refused. */
  readonly publishEvents?: EventPublisher;
  /** API tokens (server.requireTokens); absent: every request may do everything. */
  readonly access?: AccessControl;
  /** Records reads of audited views (audit.reads) with the token that read them. */
  readonly reads?: ReadAuditor;
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
  const authorize = deps.access?.authorize ?? allowAll;
  const { reads } = deps;
  const authorizeRead: Authorize =
    reads === undefined
      ? authorize
      : (request, action, views) => {
          authorize(request, action, views);
          reads.record(request.principal?.name ?? "anonymous", views);
        };
  const app = new App()
    .route("POST", "/get-online-features", timed("/get-online-features", feastOnlineFeatures(online, limit, authorizeRead)))
    .route("POST", "/v1/online-features", timed("/v1/online-features", nativeOnlineFeatures(online, limit, authorizeRead)))
    .route("POST", "/push", timed("/push", push(online, deps.offlineIngest, limit, authorize, deps.publishEvents)))
    .route("POST", "/write-to-online-store", timed("/write-to-online-store", writeToOnlineStore(online, limit, authorize)));
  const { access } = deps;
  if (access !== undefined) {
    // Who is asking, before any route runs (401, 429); what each route may do is checked where it knows the views (403).
    app.guard(async (request, routeAccess) => {
      const withToken = { ...request, principal: await access.authenticate(request.headers) };
      if (routeAccess === "admin") access.authorize(withToken, "admin", []);
      return withToken;
    });
  }
  return withHealthAndMetrics(app, online);
}
