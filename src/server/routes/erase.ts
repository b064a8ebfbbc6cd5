import type { ErasureRecord } from "../../erasure/erasure-record.js";
import type { ErasureRequest } from "../../erasure/run-erasure.js";
import { InvalidRequestError } from "../../errors.js";
import { json, type AppRequest, type AppResponse } from "../app.js";
import { parseJsonObject } from "../json.js";

const FIELDS = new Set(["entity", "views", "reason", "defer_compaction"]);

/**
 * `POST /v1/erase` (admin): the HTTP form of `strata erase`. Body:
 * `{"entity": {"customer_id": 42}, "views": ["orders"], "reason": "...", "defer_compaction": false}`;
 * answers the receipt. Run by the server, it also reaches the server's own in-process cache.
 */
export function eraseRoute(erase: (request: ErasureRequest) => Promise<ErasureRecord>) {
  return async (request: AppRequest): Promise<AppResponse> => {
    const body = parseJsonObject(request.body);
    const unknown = Object.keys(body).filter((k) => !FIELDS.has(k));
    if (unknown.length > 0) throw new InvalidRequestError(`unknown field${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")} (expected entity, views, reason, defer_compaction)`);
    const entity = body.entity;
    if (typeof entity !== "object" || entity === null || Array.isArray(entity) || Object.keys(entity).length === 0) throw new InvalidRequestError('"entity" must be an object of join key → value, e.g. {"customer_id": 42}');
    const subject: Record<string, string> = {};
    for (const [key, value] of Object.entries(entity as Record<string, unknown>)) {
      if (typeof value !== "string" && typeof value !== "number" && typeof value !== "bigint") throw new InvalidRequestError(`"entity.${key}" must be a string or an integer`);
      subject[key] = String(value);
    }
    const views = body.views;
    if (views !== undefined && (!Array.isArray(views) || !views.every((v) => typeof v === "string"))) throw new InvalidRequestError('"views" must be a list of feature view names');
    if (body.reason !== undefined && typeof body.reason !== "string") throw new InvalidRequestError('"reason" must be a string');
    if (body.defer_compaction !== undefined && typeof body.defer_compaction !== "boolean") throw new InvalidRequestError('"defer_compaction" must be true or false');
    return json(await erase({ subject, views, reason: body.reason, deferCompaction: body.defer_compaction }));
  };
}
