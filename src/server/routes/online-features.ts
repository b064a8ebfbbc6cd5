import type { Authorize } from "../../access/access-control.js";
import { randomBytes } from "node:crypto";
import type { OnlineService } from "../../online/online-service.js";
import type { AppRequest, AppResponse } from "../app.js";
import { feastErrorResponse } from "../feast-errors.js";
import { parseJsonObject } from "../json.js";
import { parseOnlineFeaturesRequest } from "../online-features-request.js";
import { onlineFeaturesJson } from "../online-features-response.js";

const requestIdPrefix = randomBytes(4).toString("hex");
let requestCounter = 0;

/** `POST /get-online-features`: Feast's route, Feast's shapes (errors too, so Feast clients raise the right exception). */
export function feastOnlineFeatures(online: OnlineService, maxEntities: number, authorize: Authorize) {
  return async (request: AppRequest): Promise<AppResponse> => {
    try {
      const parsed = parseOnlineFeaturesRequest(parseJsonObject(request.body), maxEntities, false);
      const { plan, result } = await online.read(parsed.selection, parsed.entities, undefined, (p) => authorize(request, "read", p.views.map((v) => v.ref.view)));
      return { status: 200, contentType: "application/json", body: onlineFeaturesJson(plan, parsed.entityOrder, parsed.entities, result, parsed.includeVersions) };
    } catch (error) {
      return feastErrorResponse(error);
    }
  };
}

/**
 * `POST /v1/online-features`: the same request (plus an optional `read_time`) and response,
 * with `degraded` (and why), a request id, and the view versions read. Errors are Strata's
 * structured JSON.
 */
export function nativeOnlineFeatures(online: OnlineService, maxEntities: number, authorize: Authorize) {
  return async (request: AppRequest): Promise<AppResponse> => {
    const parsed = parseOnlineFeaturesRequest(parseJsonObject(request.body), maxEntities, true);
    const { plan, result } = await online.read(parsed.selection, parsed.entities, parsed.readTimeMs, (p) => authorize(request, "read", p.views.map((v) => v.ref.view)));
    const extra = {
      degraded: result.degraded,
      ...(result.degradedReason === undefined ? {} : { degraded_reason: result.degradedReason }),
      request_id: `${requestIdPrefix}-${++requestCounter}`,
      view_versions: Object.fromEntries(plan.views.map((v) => [v.ref.view, v.ref.version])),
    };
    return { status: 200, contentType: "application/json", body: onlineFeaturesJson(plan, parsed.entityOrder, parsed.entities, result, parsed.includeVersions, extra) };
  };
}
