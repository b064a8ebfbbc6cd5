import { FeatureNameCollisionError, NotFoundError, StrataError } from "../errors.js";
import { errorResponse, HttpError } from "./http-errors.js";
import type { AppResponse } from "./app.js";

const notFoundClasses: Readonly<Record<string, string>> = { "feature service": "FeatureServiceNotFoundException", "push source": "PushSourceNotFoundException" };

/**
 * Errors on the Feast-compatible routes, in Feast's shape: the body is a JSON string holding
 * {"module", "class", "message"}, from which Feast's Python client raises the matching
 * exception (e.g. FeatureViewNotFoundException). The status is Strata's (4xx for bad requests,
 * never a 500, which Feast's client would retry), and `x-strata-error-code` carries our code.
 */
export function feastErrorResponse(error: unknown): AppResponse {
  const { status, body, headers } = errorResponse(error);
  const message = body.error.message;
  const feastClass =
    error instanceof NotFoundError
      ? (notFoundClasses[error.kind] ?? "FeatureViewNotFoundException")
      : error instanceof FeatureNameCollisionError
        ? "FeatureNameCollisionError"
        : "FeastError";
  const detail = JSON.stringify({ module: "feast.errors", class: feastClass, message });
  const code = error instanceof HttpError || error instanceof StrataError ? error.code : "INTERNAL";
  return { status, body: JSON.stringify(detail), contentType: "application/json", headers: { ...headers, "x-strata-error-code": code } };
}
