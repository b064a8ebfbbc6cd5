import type { OnlineService } from "../online/online-service.js";
import type { EventPublisher } from "../stream/event-publisher.js";
import { allowAll, type AccessControl, type Authorize } from "../access/access-control.js";
import type { ReadAuditor } from "../audit/read-auditor.js";
import type { ServingLog } from "../serving-log/serving-log.js";
import type { ErasureRecord } from "../erasure/erasure-record.js";
import type { ErasureRequest } from "../erasure/run-erasure.js";
import { eraseRoute } from "./routes/erase.js";
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
  /** Records sampled responses of both read routes (servingLog); absent: nothing is logged. */
  readonly servingLog?: ServingLog;
  /** Runs an erasure (`POST /v1/erase`, admin); absent: the route is not served. */
  readonly erase?: (request: ErasureRequest) => Promise<ErasureRecord>;
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
    .route("POST", "/get-online-features", timed("/get-online-features", feastOnlineFeatures(online, limit, authorizeRead, deps.servingLog)))
    .route("POST", "/v1/online-features", timed("/v1/online-features", nativeOnlineFeatures(online, limit, authorizeRead, deps.servingLog)))
    .route("POST", "/push", timed("/push", push(online, deps.offlineIngest, limit, authorize, deps.publishEvents)))
    .route("POST", "/write-to-online-store", timed("/write-to-online-store", writeToOnlineStore(online, limit, authorize)));
  if (deps.erase !== undefined) app.route("POST", "/v1/erase", timed("/v1/erase", eraseRoute(deps.erase)), "admin");
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
