import { InvalidRequestError } from "../errors.js";
import type { FeatureSelection } from "../online/read/read-plan.js";
import { parseTimestamp } from "../online/coerce-value.js";

/** A get-online-features body, checked: Feast's fields, plus `read_time` on the native route. */
export interface OnlineFeaturesRequest {
  readonly selection: FeatureSelection;
  readonly entities: Readonly<Record<string, readonly unknown[]>>;
  /** The request's entity columns, in its order (Feast returns join keys in this order). */
  readonly entityOrder: readonly string[];
  readonly includeVersions: boolean;
  readonly readTimeMs?: number;
}

/** Feast (pydantic) accepts booleans loosely: true/false, "true"/"yes"/"1", 1/0. */
function flag(value: unknown, field: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === "boolean") return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value === "string" && /^(true|yes|on|1|false|no|off|0)$/i.test(value)) return /^(true|yes|on|1)$/i.test(value);
  throw new InvalidRequestError(`"${field}" must be true or false, got ${JSON.stringify(value)}`);
}

export function parseOnlineFeaturesRequest(body: Readonly<Record<string, unknown>>, maxEntities: number, allowReadTime: boolean): OnlineFeaturesRequest {
  const { entities, features, feature_service: service } = body;
  if (typeof entities !== "object" || entities === null || Array.isArray(entities)) {
    throw new InvalidRequestError('"entities" must be an object of join key → list of values, e.g. {"driver_id": [1001, 1002]}');
  }
  let rows: number | undefined;
  for (const [name, values] of Object.entries(entities)) {
    if (!Array.isArray(values)) throw new InvalidRequestError(`"entities.${name}" must be a list of values`);
    if (values.length > maxEntities) throw new InvalidRequestError(`"entities.${name}" has ${values.length} values; at most ${maxEntities} per request (server.maxEntities)`);
    if (rows !== undefined && values.length !== rows) throw new InvalidRequestError(`entity columns differ in length ("entities.${name}" has ${values.length} values, expected ${rows})`);
    rows = values.length;
  }
  if (service !== undefined && service !== null && typeof service !== "string") throw new InvalidRequestError('"feature_service" must be a string');
  const useService = typeof service === "string";
  if (!useService && (!Array.isArray(features) || !features.every((f) => typeof f === "string"))) {
    throw new InvalidRequestError('"features" must be a list of "view:feature" strings (or give "feature_service")');
  }
  const readTime = body.read_time;
  if (readTime !== undefined && !allowReadTime) throw new InvalidRequestError('"read_time" is accepted by the native route (/v1/online-features) only');
  return {
    selection: useService
      ? { featureService: service, fullFeatureNames: flag(body.full_feature_names, "full_feature_names") }
      : { features: features as string[], fullFeatureNames: flag(body.full_feature_names, "full_feature_names") },
    entities: entities as Record<string, unknown[]>,
    entityOrder: Object.keys(entities),
    includeVersions: flag(body.include_feature_view_version_metadata, "include_feature_view_version_metadata"),
    ...(readTime === undefined ? {} : { readTimeMs: parseTimestamp(readTime, '"read_time"').getTime() }),
  };
}
