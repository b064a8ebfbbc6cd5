import { userInfo } from "node:os";
import { newTokenSecret, scopeProblems, tokenHash } from "./access/api-token.js";
import type { AuditRow } from "./audit/audit-entry.js";
import { readAuditor, type ReadAuditor } from "./audit/read-auditor.js";
import { verifyChain, type AuditVerifyReport } from "./audit/verify-chain.js";
import type { ErasureRecord } from "./erasure/erasure-record.js";
import { compactErasures, runErasure, verifyErasure, type ErasureDeps, type ErasureRequest } from "./erasure/run-erasure.js";
import { erasuresRowSql, type Subject } from "./erasure/subject.js";
import { isAbsolute, join, resolve } from "node:path";
import { loadProjectConfig } from "./config/load-project-config.js";
import type { ProjectConfig } from "./config/project-config.js";
import type { RepoSpec } from "./definitions/specs.js";
import { DefinitionError, InvalidRequestError, NotFoundError } from "./errors.js";
import { loadRepo } from "./loader/load-definitions.js";
import { backfillTiles, type BackfillReport } from "./aggregation/backfill.js";
import { checkParity, type ParityReport } from "./aggregation/parity.js";
import { checkSources, sourcePath, type SourceCheck } from "./offline/check-sources.js";
import { DuckDb } from "./offline/duckdb.js";
import { retrieveHistorical, type HistoricalRequest } from "./offline/historical-retrieval.js";
import { ingestFile, type IngestReport } from "./offline/ingest.js";
import { ingestEventLines, ingestRows } from "./offline/ingest-rows.js";
import type { LineBatch } from "./offline/line-batch.js";
import type { TrainingSet } from "./offline/training-set.js";
import { applyRepo, type ApplyResult } from "./registry/apply.js";
import { lineage, type Lineage } from "./registry/lineage.js";
import { openRegistryStore } from "./registry/open-registry-store.js";
import { computePlan, type Plan } from "./registry/plan.js";
import { removeVersionWrites } from "./registry/plan-writes.js";
import { latestVersion, type RegistrySnapshot, type ViewVersionRecord } from "./registry/registry-records.js";
import type { RegistryStore, WriteAudit } from "./registry/registry-store.js";
import { resolveFeatureRefs, resolveFeatureService } from "./registry/resolve-features.js";
import type { ProgressListener } from "./util/progress.js";
import { OnlineService } from "./online/online-service.js";
import { explainRequest, type Explanation } from "./serving-log/explain-request.js";
import { trainingSetFromServingLog, type ServingLogTrainingRequest, type ServingLogTrainingSet } from "./serving-log/serving-log-training-set.js";
import { logsAnything } from "./serving-log/serving-log.js";
import { valueTypeFromName } from "./definitions/value-type.js";
import { materializeViews, type MaterializeOptions } from "./online/materialize/materialize-views.js";
import type { MaterializeReport } from "./online/materialize/materialize.js";

export interface PlanReport {
  readonly plan: Plan;
  readonly sources: SourceCheck;
}

export interface TrainingSetRequest extends Omit<HistoricalRequest, "views"> {
  /** "view:feature" references; or name a `service`. */
  readonly features?: readonly string[];
  readonly service?: string;
}

/**
 * The library behind the `strata` CLI: one project (its strata.yaml), its registry, its
 * offline store. Each method delegates to the module that owns the work.
 *
 * @example
 * const store = await FeatureStore.open("my-project");
 * await store.apply();
 * await store.ingest("driver_hourly_stats");
 * const set = await store.getHistoricalFeatures({ entities: "labels.parquet", service: "driver_ranking" });
 * console.log(await set.toRows());
 * await store.close();
 */
export class FeatureStore {
  private registryStore: RegistryStore | undefined;
  private duck: Promise<DuckDb> | undefined;
  /** Ingestions run one at a time: they stage into fixed table names on the engine's one connection. */
  private ingestions: Promise<unknown> = Promise.resolve();
  private onlineService: Promise<OnlineService> | undefined;

  private constructor(
    readonly config: ProjectConfig,
    private readonly actor: string,
  ) {}

  static async open(dir = ".", options: { actor?: string } = {}): Promise<FeatureStore> {
    return new FeatureStore(await loadProjectConfig(dir), options.actor ?? process.env.STRATA_ACTOR ?? userInfo().username);
  }

  get registry(): RegistryStore {
    this.registryStore ??= openRegistryStore(this.config.registry, this.config.project);
    return this.registryStore;
  }

  /** The embedded DuckDB engine, opened on first use. */
  engine(): Promise<DuckDb> {
    this.duck ??= DuckDb.open(this.config.duckdb);
    return this.duck;
  }

  /** Loads and validates the project's definitions file. */
  loadDefinitions(): Promise<RepoSpec> {
    return loadRepo(this.config.definitions, join(this.config.projectDir, ".strata", "cache"));
  }

  /** The diff between the definitions and the registry, plus what the sources say about them. */
  async plan(repo?: RepoSpec): Promise<PlanReport> {
    const definitions = repo ?? (await this.loadDefinitions());
    const sources = await checkSources(await this.engine(), this.config.projectDir, definitions);
    return { plan: computePlan(await this.registry.load(), definitions), sources };
  }

  /** Records the definitions in the registry; refuses when a source contradicts them. */
  async apply(repo?: RepoSpec): Promise<ApplyResult & { sources: SourceCheck }> {
    const definitions = repo ?? (await this.loadDefinitions());
    const sources = await checkSources(await this.engine(), this.config.projectDir, definitions);
    if (sources.problems.length > 0) throw new DefinitionError(sources.problems);
    return { ...(await applyRepo(this.registry, definitions, this.actor, { key: this.auditKey() })), sources };
  }

  snapshot(): Promise<RegistrySnapshot> {
    return this.registry.load();
  }

  lineage(name: string): Promise<Lineage> {
    return this.snapshot().then((s) => lineage(s, name));
  }

  /** Removes one old version of a view (its offline data stays on disk until pruned). */
  async removeVersion(view: string, version: number): Promise<number> {
    const snapshot = await this.snapshot();
    const writes = removeVersionWrites(snapshot, view, version, new Date().toISOString());
    if (typeof writes === "string") throw new InvalidRequestError(writes);
    const audit = { action: (revision: number) => ({ actor: this.actor, action: "remove-version", object: `featureView:${view}`, details: { version, revision } }), key: this.auditKey() };
    return this.registry.commit(snapshot.revision, writes, { actor: this.actor, summary: [`remove featureView ${view} v${version}`] }, audit);
  }

  /** Ingests the view's declared source, or `file`, into the latest version of the view. */
  async ingest(view: string, options: { file?: string; onProgress?: ProgressListener } = {}): Promise<IngestReport> {
    const record = latestVersion(await this.snapshot(), view);
    if (record === undefined) throw new NotFoundError("feature view", view, "define it and run `strata apply` first");
    const path = options.file === undefined ? sourcePath(this.config.projectDir, record.spec) : isAbsolute(options.file) ? options.file : resolve(options.file);
    const dropRows = erasuresRowSql(record, await this.registry.erasures());
    const report = await this.serially(async () => ingestFile(await this.engine(), { record, offlineRoot: this.config.offline.path, path, onProgress: options.onProgress, dropRows }));
    await this.audit("ingest", `featureView:${view}`, { version: report.version, file: path, rows: report.rows, commit: report.commit?.id ?? null });
    return report;
  }

  /**
   * Ingests rows given in memory into a view version (a push to the offline store;
   * `sourceLabel` is what the commit records as its source).
   */
  ingestRows(record: ViewVersionRecord, rows: readonly Readonly<Record<string, unknown>>[], timestampField: string, options: Parameters<typeof ingestRows>[5] = {}): Promise<IngestReport> {
    return this.ingestInMemory(record, (duck, dropRows) => ingestRows(duck, record, this.config.offline.path, rows, timestampField, { ...options, dropRows }));
  }

  /** Ingests a stream processor's accepted events, as JSON lines (stream/event-log-line.ts), into its view version's event log. */
  ingestEventLines(record: ViewVersionRecord, lines: LineBatch, sourceLabel: string): Promise<IngestReport> {
    return this.ingestInMemory(record, (duck, dropRows) => ingestEventLines(duck, record, this.config.offline.path, lines, record.spec.source.timestampField, { sourceLabel, dropRows }));
  }

  /** One ingestion at a time, dropping the rows of erased subjects (the ledger read now). */
  private async ingestInMemory(record: ViewVersionRecord, ingest: (duck: DuckDb, dropRows: string | undefined) => Promise<IngestReport>): Promise<IngestReport> {
    const dropRows = erasuresRowSql(record, await this.registry.erasures());
    return this.serially(async () => ingest(await this.engine(), dropRows));
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.ingestions.then(work);
    this.ingestions = next.catch(() => undefined);
    return next;
  }

  /** Builds or refreshes an aggregation view's tiles (incrementally); training sets also do this on their own when tiles are behind. */
  async backfill(view: string, options: { onProgress?: ProgressListener } = {}): Promise<BackfillReport> {
    const record = latestVersion(await this.snapshot(), view);
    if (record === undefined) throw new NotFoundError("aggregation view", view, "define it and run `strata apply` first");
    if (record.spec.aggregation === undefined) throw new InvalidRequestError(`"${view}" is a feature view, not an aggregation view: it has no tiles to backfill`);
    const report = await backfillTiles(await this.engine(), this.config.offline.path, record, options.onProgress);
    await this.audit("backfill", `aggregationView:${view}`, { version: report.version, dates: report.dates, upToCommit: report.upToCommit });
    return report;
  }

  /** Compares the streaming state with the batch plan on a sample of an aggregation view's events (see checkParity). */
  async parity(view: string, options: { sample?: number } = {}): Promise<ParityReport> {
    const record = latestVersion(await this.snapshot(), view);
    if (record?.spec.aggregation === undefined) throw new NotFoundError("aggregation view", view, "parity compares an aggregation view's streaming and batch values");
    const features = record.spec.features.map((f) => `${view}:${f.name}`);
    const batch = async (entities: readonly Record<string, unknown>[], asOfIngestion: boolean): Promise<Record<string, unknown>[]> => {
      const set = await this.getHistoricalFeatures({ entities, features, asOfIngestion });
      try {
        return await set.toRows();
      } finally {
        await set.close();
      }
    };
    return checkParity(await this.engine(), this.config.offline.path, record, batch, { sample: options.sample ?? 200 });
  }

  /** A point-in-time-correct training set for the entity rows (see DESIGN.md, "Contracts"). */
  async getHistoricalFeatures(request: TrainingSetRequest): Promise<TrainingSet> {
    const snapshot = await this.snapshot();
    if ((request.features === undefined) === (request.service === undefined)) throw new InvalidRequestError("request either features or a service");
    const views = request.service === undefined ? resolveFeatureRefs(snapshot, request.features ?? []) : resolveFeatureService(snapshot, request.service);
    for (const v of views) {
      if (this.config.audit.reads.includes(v.record.name)) await this.audit("read", `featureView:${v.record.name}`, { kind: "training-set", features: v.features.map((f) => f.name) });
    }
    const pendingErasures = (await this.registry.erasures()).filter((e) => e.offlinePending);
    return retrieveHistorical(await this.engine(), this.config.offline.path, { ...request, views, pendingErasures });
  }

  /** What a logged online request was served (see explainRequest); NotFoundError when it is not in the serving log. */
  async explainRequest(requestId: string): Promise<Explanation> {
    return explainRequest(await this.engine(), this.config.offline.path, requestId);
  }

  /** A training set of the features as served: label rows joined to the serving log by request id (see trainingSetFromServingLog). */
  async trainingSetFromServingLog(request: ServingLogTrainingRequest): Promise<ServingLogTrainingSet> {
    const snapshot = await this.snapshot();
    const typeOf = (view: string, version: number, feature: string) => {
      const type = snapshot.views.find((v) => v.name === view && v.version === version)?.spec.features.find((f) => f.name === feature)?.type;
      return type === undefined ? undefined : valueTypeFromName(type);
    };
    const built = await trainingSetFromServingLog(await this.engine(), this.config.offline.path, typeOf, request);
    for (const v of new Set(built.set.views.map((m) => m.view))) {
      if (this.config.audit.reads.includes(v)) await this.audit("read", `featureView:${v}`, { kind: "training-set", from: "serving-log" });
    }
    return built;
  }

  /**
   * The online tier (durable store, cache, read and write paths), opened on first use. A batch
   * process (materialization, a stream processor) passes `role: "batch"`: no in-process cache
   * that nobody else could read (Redis is still populated).
   */
  online(options: { role?: "serving" | "batch" } = {}): Promise<OnlineService> {
    this.onlineService ??= OnlineService.open(this.config, this.registry, options);
    return this.onlineService;
  }

  /**
   * Loads the latest values from the offline store into the online store (see materializeView).
   * Uses this store's online tier if it is open (a serving process), else a batch one of its own.
   */
  async materialize(options: MaterializeOptions = {}): Promise<MaterializeReport[]> {
    return this.withOnline(async (online) => {
      const reports = await materializeViews(await this.engine(), this.config.offline.path, online, await this.snapshot(), options);
      for (const r of reports) if (!r.skipped) await this.audit("materialize", `featureView:${r.view}`, { version: r.version, start: r.start, end: r.end, rows: r.rows, applied: r.applied });
      return reports;
    });
  }

  /** Runs work with this store's online tier if it is open (a serving process), else with a batch one of its own, closed after. */
  private async withOnline<T>(work: (online: OnlineService) => Promise<T>): Promise<T> {
    const shared = this.onlineService !== undefined;
    const online = shared ? await this.online() : await OnlineService.open(this.config, this.registry, { role: "batch" });
    try {
      return await work(online);
    } finally {
      if (!shared) await online.close();
    }
  }

  /**
   * Erases a data subject from every copy (see runErasure) and returns the receipt. Resumes the
   * subject's unfinished erasure, if one was killed.
   */
  async erase(request: ErasureRequest, options: { onStep?: (step: string) => void } = {}): Promise<ErasureRecord> {
    return this.withOnline(async (online) => runErasure(await this.erasureDeps(online, options.onStep), request));
  }

  /** What every copy still holds of an erased subject (nothing, after an erasure); undefined if it was never erased. */
  async verifyErasure(subject: Subject): Promise<Awaited<ReturnType<typeof verifyErasure>>> {
    return this.withOnline(async (online) => verifyErasure(await this.erasureDeps(online), subject));
  }

  /** Rewrites the offline files of erasures that deferred it (`erase --defer-compaction`). */
  async compact(): Promise<ErasureRecord[]> {
    return this.withOnline(async (online) => compactErasures(await this.erasureDeps(online)));
  }

  private async erasureDeps(online: OnlineService, onStep?: (step: string) => void): Promise<ErasureDeps> {
    // Servers write what they logged every flush interval: two of them cover a write in progress.
    const servingLogSettleMs = logsAnything(this.config.servingLog) ? 2 * this.config.servingLog.flushIntervalMs : 0;
    return { project: this.config.project, servingLogSettleMs, registry: this.registry, online, duck: await this.engine(), offlineRoot: this.config.offline.path, actor: this.actor, audit: (a, o, d) => this.auditOf(a, o, d), onStep };
  }

  /**
   * Creates an API token with scopes (`read:<view>`, `write:<view>`, `admin`; a view may be `*`
   * or end in `*`) and an optional quota; returns the secret, which is shown once and stored only
   * as its SHA-256.
   */
  async createToken(name: string, scopes: readonly string[], quotaPerSecond: number | null = null): Promise<string> {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new InvalidRequestError(`token name "${name}" must be 1-64 letters, digits, _ . -`);
    const problems = scopeProblems(scopes);
    if (problems.length > 0) throw new InvalidRequestError(problems.join("; "), { details: problems });
    if (quotaPerSecond !== null && !(Number.isInteger(quotaPerSecond) && quotaPerSecond > 0)) throw new InvalidRequestError(`--quota must be a whole number of requests per second above 0, got ${quotaPerSecond}`);
    const secret = newTokenSecret();
    const token = { name, hash: tokenHash(secret), scopes: [...scopes], quotaPerSecond, createdAt: new Date().toISOString(), revokedAt: null };
    const created = await this.registry.createToken(token, this.auditOf("token.create", `token:${name}`, { scopes, quotaPerSecond }));
    if (!created) throw new InvalidRequestError(`a token named "${name}" exists (or existed): names are never reused`);
    return secret;
  }

  async revokeToken(name: string): Promise<void> {
    if (!(await this.registry.revokeToken(name, new Date().toISOString(), this.auditOf("token.revoke", `token:${name}`)))) throw new NotFoundError("live token", name, "see `strata token list`");
  }

  /** Appends a management action to the project's hash-chained audit log (signed when the audit key is set). */
  async audit(action: string, object: string, details: Record<string, unknown> = {}): Promise<AuditRow> {
    const { action: entry, key } = this.auditOf(action, object, details);
    const [row] = await this.registry.appendAudit([entry], key);
    return row!;
  }

  /** This store's actor doing `action` on `object`, and the signing key. */
  private auditOf(action: string, object: string, details: Record<string, unknown> = {}): WriteAudit {
    return { action: { actor: this.actor, action, object, details }, key: this.auditKey() };
  }

  /**
   * Records reads of the views in `audit.reads` by whoever the server verified (see
   * readAuditor); undefined when no view's reads are audited.
   */
  readAuditor(): ReadAuditor | undefined {
    const { reads } = this.config.audit;
    if (reads.length === 0) return undefined;
    return readAuditor(reads, (batch) => this.registry.appendAudit(batch.map(({ actor, view }) => ({ actor, action: "read", object: `featureView:${view}`, details: { kind: "online" } })), this.auditKey()));
  }

  /** Verifies the audit log (see verifyChain); `anchor` is a `seq:hash` kept outside the log. */
  async verifyAudit(anchor?: string): Promise<AuditVerifyReport> {
    return verifyChain(await this.registry.auditRows(), { key: this.auditKey(), anchor });
  }

  private auditKey(): string | undefined {
    const key = process.env[this.config.audit.hmacKeyEnv];
    return key === undefined || key === "" ? undefined : key;
  }

  async close(): Promise<void> {
    if (this.onlineService !== undefined) await (await this.onlineService).close();
    if (this.duck !== undefined) (await this.duck).close();
    await this.registryStore?.close();
  }
}
