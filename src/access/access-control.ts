import { ForbiddenError, RateLimitedError, UnauthenticatedError } from "../errors.js";
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
 * registry's token table (reloaded every `refreshMs`, and at once, at most every second, for an
 * unknown token, so a new token works at once and a revoked one stops within `refreshMs`); a
 * token bucket per token for its quota.
 */
export class AccessControl {
  private byHash = new Map<string, TokenRecord>();
  private loadedAt = -Infinity;
  private loading: Promise<void> | undefined;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly load: () => Promise<TokenRecord[]>,
    private readonly refreshMs: number,
  ) {}

  /** The request's token: 401 when missing, malformed, unknown or revoked; 429 past its quota. */
  async authenticate(headers: Readonly<Record<string, string | string[] | undefined>>): Promise<TokenRecord> {
    const header = headers.authorization;
    const secret = typeof header === "string" && header.startsWith("Bearer ") ? header.slice(7).trim() : undefined;
    if (secret === undefined || secret === "") throw new UnauthenticatedError("this server requires an API token: send Authorization: Bearer <token> (strata token create)");
    const hash = tokenHash(secret);
    if (performance.now() - this.loadedAt >= this.refreshMs) await this.reload();
    if (!this.byHash.has(hash) && performance.now() - this.loadedAt >= RELOAD_MIN_MS) await this.reload();
    const token = this.byHash.get(hash);
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
    this.loading ??= this.load()
      .then((tokens) => {
        this.byHash = new Map(tokens.map((t) => [t.hash, t]));
        this.loadedAt = performance.now();
      })
      .finally(() => (this.loading = undefined));
    return this.loading;
  }

  private takeQuota(token: TokenRecord): void {
    const rate = token.quotaPerSecond;
    if (rate === null) return;
    const now = performance.now();
    const bucket = this.buckets.get(token.name) ?? { tokens: rate, at: now };
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    this.buckets.set(token.name, bucket);
    if (bucket.tokens < 1) throw new RateLimitedError(`the token "${token.name}" is over its quota of ${rate} requests per second`, Math.max(1, Math.ceil((1 - bucket.tokens) / rate)));
    bucket.tokens -= 1;
  }
}
