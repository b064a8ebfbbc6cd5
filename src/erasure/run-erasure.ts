import { randomBytes } from "node:crypto";
import type { DuckDb } from "../offline/duckdb.js";
import type { OnlineService } from "../online/online-service.js";
import { nowMicros } from "../online/online-sql.js";
import type { RegistrySnapshot } from "../registry/registry-records.js";
import type { RegistryStore, WriteAudit } from "../registry/registry-store.js";
import { sha256Hex } from "../util/canonical-json.js";
import type { ErasureContext, ErasureCopy } from "./erasure-copy.js";
import { subjectLabel, type CopyReport, type ErasureRecord } from "./erasure-record.js";
import { deadLetterCopy } from "./dead-letter-copy.js";
import { offlineCopy } from "./offline-copy.js";
import { onlineCopy } from "./online-copy.js";
import { servingLogCopy } from "./serving-log-copy.js";
import { erasedViews, type Subject } from "./subject.js";

export interface ErasureDeps {
  readonly project: string;
  readonly servingLogSettleMs: number;
  readonly registry: RegistryStore;
  readonly online: OnlineService;
  readonly duck: DuckDb;
  readonly offlineRoot: string;
  readonly actor: string;
  /** Makes the audit entry of a ledger write (signed with the project's key). */
  readonly audit: (action: string, object: string, details: Record<string, unknown>) => WriteAudit;
  /** Called after each step is recorded (progress; a crash test kills the process here). */
  readonly onStep?: (step: string) => void;
}

export interface ErasureRequest {
  readonly subject: Subject;
  readonly views?: readonly string[];
  readonly reason?: string;
  /** Leave the offline rewrite to `strata compact`; until then training sets skip the rows (the tombstone). */
  readonly deferCompaction?: boolean;
}

/** Every copy, in the order an erasure reaches them: the online tier first, which stops resurrection at once. */
export const ERASURE_COPIES: readonly ErasureCopy[] = [onlineCopy, offlineCopy, servingLogCopy, deadLetterCopy];

/** What the copies' steps of an erasure work with: the view versions it reaches in `snapshot`, and the stores. */
function contextOf(deps: ErasureDeps, snapshot: RegistrySnapshot, erasure: ErasureRecord): ErasureContext {
  return { erasure, project: deps.project, servingLogSettleMs: deps.servingLogSettleMs, views: erasedViews(snapshot, erasure.subject, erasure.views), online: deps.online, duck: deps.duck, offlineRoot: deps.offlineRoot };
}

/** The audit log names the subject by hash: the log is kept forever, the subject must not be in it. */
export const subjectHash = (subject: Subject): string => sha256Hex(subjectLabel(subject));

/**
 * Erases a data subject from every copy and returns the receipt (the ledger record with each
 * copy's report). The ledger entry is written first: from then on stream processors and servers
 * drop the subject (the replay boundary) and a killed erase resumes — running it again for the
 * same subject continues the unfinished erasure, with its boundary, from the first step not
 * recorded. Erasing a subject already erased is a new erasure that finds nothing.
 */
export async function runErasure(deps: ErasureDeps, request: ErasureRequest): Promise<ErasureRecord> {
  const snapshot = await deps.registry.load();
  const label = subjectLabel(request.subject);
  const unfinished = (await deps.registry.erasures()).find((e) => e.status === "running" && subjectLabel(e.subject) === label);
  let erasure: ErasureRecord = unfinished ?? {
    id: `er-${Date.now().toString(36)}${randomBytes(4).toString("hex")}`,
    subject: request.subject,
    views: [...new Set(erasedViews(snapshot, request.subject, request.views).map((v) => v.name))].sort(),
    boundaryMicros: nowMicros(),
    reason: request.reason ?? null,
    actor: deps.actor,
    requestedAt: new Date().toISOString(),
    status: "running",
    offlinePending: true,
    steps: [],
    completedAt: null,
  };
  const object = `erasure:${erasure.id}`;
  if (unfinished === undefined) await deps.registry.saveErasure(erasure, deps.audit("erase.start", object, { subject: subjectHash(request.subject), views: erasure.views, reason: erasure.reason }));
  const deferred = request.deferCompaction === true;
  for (const copy of ERASURE_COPIES) {
    if (erasure.steps.some((s) => s.step === copy.name)) continue;
    // Deferred, the offline step still rewrites aggregation views' event logs (their tiles are built from them); feature views wait for `strata compact`.
    const partial = deferred && copy === offlineCopy;
    const context = contextOf(deps, snapshot, erasure);
    const reports = (await copy.erase(partial ? { ...context, views: context.views.filter((v) => v.spec.aggregation !== undefined) } : context)).map((r): CopyReport => ({ ...r, step: copy.name }));
    erasure = { ...erasure, steps: [...erasure.steps, ...reports], offlinePending: erasure.offlinePending && (copy !== offlineCopy || partial) };
    await deps.registry.saveErasure(erasure);
    deps.onStep?.(copy.name);
  }
  erasure = { ...erasure, status: "done", completedAt: new Date().toISOString() };
  const counts = Object.fromEntries(erasure.steps.map((s) => [s.copy, s.count]));
  await deps.registry.saveErasure(erasure, deps.audit("erase", object, { subject: subjectHash(erasure.subject), views: erasure.views, removed: counts, offlinePending: erasure.offlinePending }));
  return erasure;
}

/**
 * `strata compact`: the offline rewrite of every erasure that left it pending (deferred, or
 * killed before it): the rows the tombstone hides are physically removed.
 */
export async function compactErasures(deps: ErasureDeps): Promise<ErasureRecord[]> {
  const snapshot = await deps.registry.load();
  const done: ErasureRecord[] = [];
  for (const pending of (await deps.registry.erasures()).filter((e) => e.offlinePending && e.status === "done")) {
    const reports = (await offlineCopy.erase(contextOf(deps, snapshot, pending))).map((r): CopyReport => ({ ...r, step: offlineCopy.name }));
    const compacted: ErasureRecord = { ...pending, offlinePending: false, steps: [...pending.steps.filter((s) => s.step !== offlineCopy.name), ...reports] };
    await deps.registry.saveErasure(compacted, deps.audit("compact", `erasure:${pending.id}`, { removed: reports.reduce((n, r) => n + r.count, 0) }));
    done.push(compacted);
  }
  return done;
}

/**
 * `strata erase --verify`: scans every copy for what the subject's latest erasure should have
 * removed. Undefined when the subject was never erased.
 */
export async function verifyErasure(deps: ErasureDeps, subject: Subject): Promise<{ erasure: ErasureRecord; remaining: CopyReport[] } | undefined> {
  const label = subjectLabel(subject);
  const erasure = (await deps.registry.erasures()).filter((e) => subjectLabel(e.subject) === label).at(-1);
  if (erasure === undefined) return undefined;
  const ctx = contextOf(deps, await deps.registry.load(), erasure);
  const remaining: CopyReport[] = [];
  for (const copy of ERASURE_COPIES) remaining.push(...(await copy.remaining(ctx)));
  return { erasure, remaining };
}
