import { RateLimitedError, StrataError, UnauthenticatedError, type StrataErrorCode } from "../errors.js";

/** An HTTP-level problem (not found, too large, malformed): a status and a message for the client. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const statusByCode: Record<StrataErrorCode, number> = {
  REQUEST_INVALID: 400,
  INGEST_INVALID: 400,
  DEFINITION_INVALID: 400,
  NOT_FOUND: 404,
  REGISTRY_CONFLICT: 409,
  CONFIG_INVALID: 500,
  STORAGE_FAILED: 503,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
};

export interface ErrorResponse {
  readonly status: number;
  readonly body: { readonly error: { readonly code: string; readonly message: string; readonly details?: readonly string[] } };
  readonly headers?: Readonly<Record<string, string>>;
}

/** The one place errors become HTTP responses. Anything unexpected is a 500 that names no internals. */
export function errorResponse(error: unknown): ErrorResponse {
  if (error instanceof HttpError) return { status: error.status, body: { error: { code: error.code, message: error.message } } };
  if (error instanceof StrataError) {
    const headers: Record<string, string> | undefined =
      error instanceof RateLimitedError ? { "retry-after": String(error.retryAfterSeconds) } : error instanceof UnauthenticatedError ? { "www-authenticate": 'Bearer realm="strata"' } : undefined;
    return { status: statusByCode[error.code], body: { error: { code: error.code, message: error.message, ...(error.details.length > 0 ? { details: error.details } : {}) } }, headers };
  }
  return { status: 500, body: { error: { code: "INTERNAL", message: "internal error" } } };
}
