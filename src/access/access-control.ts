import { ForbiddenError, RateLimitedError, UnauthenticatedError } from "../errors.js";
import { RateLimiter } from "../stream/rate-limiter.js";
import { scopeAllows, tokenHash, type AccessAction, type TokenRecord } from "./api-token.js";

/** Where a request's verified token travels from the guard to the route. */
export interface WithPrincipal {
  readonly principal?: TokenRecord;
}

/** Checks that a request's token may do `action` on each view (no views: the route itself, admin only). */
export type Authorize = (request: WithPrincipal, action: AccessAction, views: readonly string[]) => void;

/** Without access control every request may do everything. */
export const allowAll: Authorize = () => undefined;

/** Forced reloads (an unknown token may be one created a moment ago) at most this often. */
const RELOAD_MIN_MS = 1000;

/**
 * API tokens on the hot path: bearer tokens looked up by their SHA-256 in a copy of the
 * registry's token table. The copy is refreshed in the background every `refreshMs` (a failed
 * refresh keeps the old copy, so a registry outage does not stop serving; a revoked token stops
 * within `refreshMs`); a request waits only for the first load, or for a reload (at most every
 * second) when its token is unknown, so a new token works at once. Quotas: a token bucket each.
 */
export class AccessControl {
  private byHash: Map<string, TokenRecord> | undefined;
  private loadStartedAt = -Infinity;
  private loading: Promise<void> | undefined;
  private readonly quotas = new Map<string, RateLimiter>();

  constructor(
    private readonly load: () => Promise<TokenRecord[]>,
    refreshMs: number,
  ) {
    setInterval(() => void this.reload().catch(() => undefined), refreshMs).unref();
  }

  /** The request's token: 401 when missing, malformed, unknown or revoked; 429 past its quota. */
  async authenticate(headers: Readonly<Record<string, string | string[] | undefined>>): Promise<TokenRecord> {
    const header = headers.authorization;
    const secret = typeof header === "string" && header.startsWith("Bearer ") ? header.slice(7).trim() : undefined;
    if (secret === undefined || secret === "") throw new UnauthenticatedError("this server requires an API token: send Authorization: Bearer <token> (strata token create)");
    const hash = tokenHash(secret);
    if (this.byHash === undefined || (!this.byHash.has(hash) && performance.now() - this.loadStartedAt >= RELOAD_MIN_MS)) await this.reload();
    const token = this.byHash?.get(hash);
    if (token === undefined || token.revokedAt !== null) throw new UnauthenticatedError("the API token is unknown or revoked");
    this.takeQuota(token);
    return token;
  }

  readonly authorize: Authorize = (request, action, views) => {
    const token = request.principal;
    if (token === undefined) throw new UnauthenticatedError("no API token was verified for this request");
    for (const view of views.length === 0 ? [undefined] : views) {
      if (!scopeAllows(token.scopes, action, view)) {
        throw new ForbiddenError(`the token "${token.name}" may not ${action} ${view === undefined ? "here (admin only)" : `feature view "${view}"`}; its scopes: ${token.scopes.join(", ")}`);
      }
    }
  };

  private reload(): Promise<void> {
    this.loadStartedAt = performance.now();
    this.loading ??= this.load()
      .then((tokens) => void (this.byHash = new Map(tokens.map((t) => [t.hash, t]))))
      .finally(() => (this.loading = undefined));
    return this.loading;
  }

  private takeQuota(token: TokenRecord): void {
    const rate = token.quotaPerSecond;
    if (rate === null) return;
    let quota = this.quotas.get(token.name);
    if (quota === undefined) this.quotas.set(token.name, (quota = new RateLimiter(rate)));
    const wait = quota.tryTake();
    if (wait > 0) throw new RateLimitedError(`the token "${token.name}" is over its quota of ${rate} requests per second`, Math.max(1, Math.ceil(wait)));
  }
}
