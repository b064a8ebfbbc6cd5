import { randomBytes } from "node:crypto";
import { sha256Hex } from "../util/canonical-json.js";

export type AccessAction = "read" | "write" | "admin";

/** A token as the registry keeps it: never the secret, only its SHA-256. */
export interface TokenRecord {
  readonly name: string;
  readonly hash: string;
  /** e.g. `read:driver_hourly_stats`, `write:*`, `read:driver_*`, `admin`. */
  readonly scopes: readonly string[];
  /** Requests per second allowed (bursts up to one second's worth); null: no quota. */
  readonly quotaPerSecond: number | null;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

/** A new secret: `strata_` and 32 random bytes (base64url). High entropy, so a plain SHA-256 is a safe stored form. */
export function newTokenSecret(): string {
  return `strata_${randomBytes(32).toString("base64url")}`;
}

export const tokenHash = sha256Hex;

/** `admin`, or `read`/`write` with an optional view (a name, `*`, or a prefix ending in `*`; none: every view). */
const SCOPE = /^(?:admin|(read|write)(?::([A-Za-z0-9_-]+\*?|\*))?)$/;

/** Checks scope strings; returns the problems (empty when all are valid). */
export function scopeProblems(scopes: readonly string[]): string[] {
  if (scopes.length === 0) return ["give at least one --scope (read:<view>, write:<view>, admin; <view> may be * or end in *)"];
  return scopes.filter((s) => !SCOPE.test(s)).map((s) => `scope "${s}" is not read:<view>, write:<view> or admin (a view may be * or end in *)`);
}

/**
 * Whether the scopes allow `action` on `view` (`admin` allows everything; a view pattern is a
 * name, `*`, or a prefix ending in `*`).
 *
 * @example
 * scopeAllows(["read:driver_*"], "read", "driver_hourly_stats"); // true
 * scopeAllows(["read:*"], "write", "driver_hourly_stats"); // false
 */
export function scopeAllows(scopes: readonly string[], action: AccessAction, view: string | undefined): boolean {
  return scopes.some((scope) => {
    const m = SCOPE.exec(scope);
    if (m === null) return false;
    if (scope === "admin") return true;
    if (m[1] !== action || view === undefined) return false;
    const pattern = m[2] ?? "*";
    return pattern.endsWith("*") ? view.startsWith(pattern.slice(0, -1)) : view === pattern;
  });
}
