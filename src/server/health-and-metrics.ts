import type { OnlineService } from "../online/online-service.js";
import type { App } from "./app.js";

/** `GET /health` (the registry answers) and `GET /metrics` (Prometheus text), for any process serving the online tier. */
export function withHealthAndMetrics(app: App, online: OnlineService): App {
  return app
    .route(
      "GET",
      "/health",
      async () => {
        await online.registrySnapshot();
        return { status: 200, body: "", contentType: "application/json" };
      },
      "public",
    )
    .route("GET", "/metrics", () => ({ status: 200, body: online.metrics.render(online.breaker.state), contentType: "text/plain; version=0.0.4" }), "admin");
}
