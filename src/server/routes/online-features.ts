import type { Authorize } from "../../access/access-control.js";
import type { OnlineService } from "../../online/online-service.js";
import { newRequestId } from "../../serving-log/request-id.js";
import type { ServingLog } from "../../serving-log/serving-log.js";
import type { AppRequest, AppResponse } from "../app.js";
import { feastErrorResponse } from "../feast-errors.js";
import { parseJsonObject } from "../json.js";
import { parseOnlineFeaturesRequest } from "../online-features-request.js";
import { onlineFeaturesJson } from "../online-features-response.js";

/**
 * `POST /get-online-features`: Feast's route, Feast's shapes (errors too, so Feast clients raise
 * the right exception). The body stays Feast's exactly; the request id (the serving log's) is
 * in the `x-request-id` header.
 */
export function feastOnlineFeatures(online: OnlineService, maxEntities: number, authorize: Authorize, log?: ServingLog) {
  return async (request: AppRequest): Promise<AppResponse> => {
    try {
      const parsed = parseOnlineFeaturesRequest(parseJsonObject(request.body), maxEntities, false);
      const { plan, result } = await online.read(parsed.selection, parsed.entities, undefined, (p) => authorize(request, "read", p.views.map((v) => v.ref.view)));
      const servedAt = Date.now();
      const requestId = newRequestId(servedAt);
      const body = onlineFeaturesJson(plan, parsed.entityOrder, parsed.entities, result, parsed.includeVersions);
      log?.record(requestId, servedAt, parsed.selection.featureService, plan, parsed.entities, result);
      return { status: 200, contentType: "application/json", body, headers: { "x-request-id": requestId } };
    } catch (error) {
      return feastErrorResponse(error);
    }
  };
}

/**
 * `POST /v1/online-features`: the same request (plus an optional `read_time`) and response,
 * with `degraded` (and why), a request id (time-ordered; the serving log's), and the view
 * versions read. Errors are Strata's structured JSON.
 */
export function nativeOnlineFeatures(online: OnlineService, maxEntities: number, authorize: Authorize, log?: ServingLog) {
  return async (request: AppRequest): Promise<AppResponse> => {
    const parsed = parseOnlineFeaturesRequest(parseJsonObject(request.body), maxEntities, true);
    const { plan, result } = await online.read(parsed.selection, parsed.entities, parsed.readTimeMs, (p) => authorize(request, "read", p.views.map((v) => v.ref.view)));
    const servedAt = Date.now();
    const requestId = newRequestId(servedAt);
    const extra = {
      degraded: result.degraded,
      ...(result.degradedReason === undefined ? {} : { degraded_reason: result.degradedReason }),
      request_id: requestId,
      view_versions: Object.fromEntries(plan.views.map((v) => [v.ref.view, v.ref.version])),
    };
    const body = onlineFeaturesJson(plan, parsed.entityOrder, parsed.entities, result, parsed.includeVersions, extra);
    log?.record(requestId, servedAt, parsed.selection.featureService, plan, parsed.entities, result);
    return { status: 200, contentType: "application/json", body };
  };
}
