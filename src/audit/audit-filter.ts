import { InvalidRequestError } from "../errors.js";
import type { AuditEntry, AuditRow } from "./audit-entry.js";

export interface AuditFilter {
  readonly actor?: string;
  readonly action?: string;
  /** An object, or a prefix ending in `*` (e.g. `featureView:*`). */
  readonly object?: string;
  /** ISO times, inclusive. */
  readonly since?: string;
  readonly until?: string;
}

/**
 * The entries that match every given condition, in log order.
 *
 * @example
 * filterAudit(rows, { action: "ingest", object: "featureView:*", since: "2026-01-01T00:00:00Z" });
 */
export function filterAudit(rows: readonly AuditRow[], filter: AuditFilter): AuditEntry[] {
  const since = filter.since === undefined ? -Infinity : timeOf(filter.since, "since");
  const until = filter.until === undefined ? Infinity : timeOf(filter.until, "until");
  const object = filter.object;
  const objectMatches = (o: string): boolean => object === undefined || (object.endsWith("*") ? o.startsWith(object.slice(0, -1)) : o === object);
  return rows
    .map((r) => JSON.parse(r.entry) as AuditEntry)
    .filter((e) => (filter.actor === undefined || e.actor === filter.actor) && (filter.action === undefined || e.action === filter.action) && objectMatches(e.object))
    .filter((e) => {
      const at = Date.parse(e.at);
      return at >= since && at <= until;
    });
}

function timeOf(text: string, name: string): number {
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new InvalidRequestError(`--${name} "${text}" is not a time (ISO 8601, e.g. 2026-11-23T10:00:00Z)`);
  return t;
}
