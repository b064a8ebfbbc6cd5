/**
 * Every failure Strata reports on purpose is a `StrataError`: a stable `code` for programs,
 * a message for people, optional structured `details`, and the underlying `cause`.
 * HTTP status mapping lives in one place (the server module), keyed by `code`.
 */
export type StrataErrorCode =
  | "DEFINITION_INVALID"
  | "CONFIG_INVALID"
  | "REGISTRY_CONFLICT"
  | "NOT_FOUND"
  | "INGEST_INVALID"
  | "REQUEST_INVALID"
  | "STORAGE_FAILED"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "RATE_LIMITED";

export class StrataError extends Error {
  readonly code: StrataErrorCode;
  readonly details: readonly string[];

  constructor(code: StrataErrorCode, message: string, options: { cause?: unknown; details?: readonly string[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? [];
  }
}

/** A feature definition (entity, source, view, service) is malformed; `details` lists every problem found. */
export class DefinitionError extends StrataError {
  constructor(problems: readonly string[]) {
    super("DEFINITION_INVALID", `invalid definitions:\n${problems.map((p) => `  - ${p}`).join("\n")}`, { details: problems });
  }
}

/** strata.yaml (or an equivalent object) does not match the configuration schema. */
export class ConfigError extends StrataError {
  constructor(message: string, options: { cause?: unknown; details?: readonly string[] } = {}) {
    super("CONFIG_INVALID", message, options);
  }
}

/** Another writer changed the registry between our read and our commit. Re-run plan/apply. */
export class RegistryConflictError extends StrataError {
  constructor(project: string, expected: number, actual: number) {
    super(
      "REGISTRY_CONFLICT",
      `registry of project "${project}" changed concurrently (expected revision ${expected}, found ${actual}); ` +
        "nothing was written: run plan/apply again",
    );
  }
}

export class NotFoundError extends StrataError {
  constructor(
    /** What was not found: "feature view", "feature service", "push source", ... */
    readonly kind: string,
    name: string,
    hint?: string,
  ) {
    super("NOT_FOUND", `${kind} "${name}" not found${hint === undefined ? "" : `: ${hint}`}`);
  }
}

/** One problem found in input data, located as precisely as we can. */
export interface DataProblem {
  readonly file: string;
  readonly row?: number;
  readonly column?: string;
  readonly message: string;
}

export function formatDataProblem(p: DataProblem): string {
  const where = [p.file, p.row === undefined ? undefined : `row ${p.row}`, p.column === undefined ? undefined : `column "${p.column}"`];
  return `${where.filter((w) => w !== undefined).join(", ")}: ${p.message}`;
}

/** Input data was rejected before anything was written; `problems` locate each defect. */
export class IngestValidationError extends StrataError {
  readonly problems: readonly DataProblem[];

  constructor(view: string, problems: readonly DataProblem[], totalProblems = problems.length) {
    const lines = problems.map(formatDataProblem);
    const more = totalProblems > problems.length ? `\n  ... and ${totalProblems - problems.length} more` : "";
    super("INGEST_INVALID", `rejected input for feature view "${view}"; nothing was written:\n${lines.map((l) => `  - ${l}`).join("\n")}${more}`, {
      details: lines,
    });
    this.problems = problems;
  }
}

/** A request (training set, lookup) names something that does not exist or does not fit. */
export class InvalidRequestError extends StrataError {
  constructor(message: string, options: { cause?: unknown; details?: readonly string[] } = {}) {
    super("REQUEST_INVALID", message, options);
  }
}

/** A request would produce the same output name twice (a feature asked for twice, or one name from two views). */
export class FeatureNameCollisionError extends InvalidRequestError {}

export class StorageError extends StrataError {
  constructor(message: string, cause?: unknown) {
    super("STORAGE_FAILED", message, { cause });
  }
}

/** No valid API token: missing, unknown or revoked. */
export class UnauthenticatedError extends StrataError {
  constructor(message: string) {
    super("UNAUTHENTICATED", message);
  }
}

/** A valid token whose scopes do not cover the action. */
export class ForbiddenError extends StrataError {
  constructor(message: string) {
    super("FORBIDDEN", message);
  }
}

/** A token over its request quota; retry after `retryAfterSeconds`. */
export class RateLimitedError extends StrataError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super("RATE_LIMITED", message);
  }
}
