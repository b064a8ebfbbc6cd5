import type { ProjectConfig } from "../config/project-config.js";
import type { RegistrySnapshot } from "../registry/registry-records.js";
import { latestVersion } from "../registry/registry-records.js";
import type { RegistryStore } from "../registry/registry-store.js";
import { NotFoundError } from "../errors.js";
import { CacheKeys } from "./cache/cache-keys.js";
import { EntryLifetime } from "./cache/entry-lifetime.js";
import type { FeatureCache } from "./cache/feature-cache.js";
import { openCache } from "./cache/open-cache.js";
import { OnlineMetrics } from "./online-metrics.js";
import type { OnlineStore } from "./online-store.js";
import { OnlineWriter, type WriteTarget } from "./online-writer.js";
import { openOnlineStore } from "./open-online-store.js";
import { CircuitBreaker } from "./read/circuit-breaker.js";
import { DefaultSnapshot } from "./read/default-snapshot.js";
import { OnlineReader, type OnlineReadResult } from "./read/online-reader.js";
import { PopulateQueue } from "./read/populate-queue.js";
import { planRead, type FeatureSelection, type ReadPlan } from "./read/read-plan.js";

/**
 * The online tier of one project, assembled from configuration: durable store, cache, read
 * and write paths, metrics, the default snapshot, and a registry view refreshed in the
 * background. Used by `strata serve`, `strata get`, materialization and the library.
 */
export class OnlineService {
  readonly breaker: CircuitBreaker;
  readonly reader: OnlineReader;
  readonly writer: OnlineWriter;
  readonly populate: PopulateQueue;
  /** The project's cache key builder (erasure finds entries with it). */
  readonly keys: CacheKeys;
  private snapshotAt = 0;
  private registryView: RegistrySnapshot | undefined;
  private loading: Promise<RegistrySnapshot> | undefined;
  private readonly plans = new Map<string, ReadPlan>();

  private constructor(
    readonly config: ProjectConfig,
    private readonly registry: RegistryStore,
    readonly durable: OnlineStore,
    readonly cache: FeatureCache,
    readonly metrics: OnlineMetrics,
    snapshot: DefaultSnapshot,
  ) {
    const cacheConfig = config.online.cache;
    this.breaker = new CircuitBreaker(cacheConfig.circuit);
    this.populate = new PopulateQueue(cache, cacheConfig.populate, metrics);
    const keys = (this.keys = new CacheKeys(cacheConfig.keyPrefix, config.project));
    const lifetime = new EntryLifetime(cacheConfig.ttlSeconds);
    this.reader = new OnlineReader({
      lifetime,
      cache,
      durable,
      keys,
      settings: { ...cacheConfig, durableReadTimeoutMs: config.online.readTimeoutMs },
      breaker: this.breaker,
      populate: this.populate,
      metrics,
      snapshot,
    });
    this.writer = new OnlineWriter({ durable, cache, keys, populate: this.populate, lifetime, metrics });
  }

  /**
   * `role: "batch"` (materialization, a stream processor) skips an in-process cache nobody else
   * could read, and the default snapshot, which only degraded reads use.
   */
  static async open(config: ProjectConfig, registry: RegistryStore, options: { snapshot?: DefaultSnapshot; role?: "serving" | "batch" } = {}): Promise<OnlineService> {
    const snapshot = options.snapshot ?? (options.role === "batch" ? DefaultSnapshot.empty() : await DefaultSnapshot.load(config.server.snapshot));
    const cache = await openCache(config.online.cache, options.role);
    return new OnlineService(config, registry, openOnlineStore(config.online, config.project), cache, new OnlineMetrics(config.server.degradedAlarmRate, config.server.degradedWindowSeconds), snapshot);
  }

  /** The registry as of at most `server.registryRefreshSeconds` ago (reads never wait on the registry otherwise). */
  async registrySnapshot(): Promise<RegistrySnapshot> {
    return this.currentRegistry() ?? (await this.refreshRegistry());
  }

  /** The registry view already loaded (refreshing it in the background when due), or undefined before the first load. */
  private currentRegistry(): RegistrySnapshot | undefined {
    if (this.registryView !== undefined && Date.now() - this.snapshotAt > this.config.server.registryRefreshSeconds * 1000) void this.refreshRegistry().catch(() => undefined);
    return this.registryView;
  }

  private refreshRegistry(): Promise<RegistrySnapshot> {
    this.snapshotAt = Date.now();
    this.loading ??= this.registry.load().then((s) => (this.registryView = s)).finally(() => (this.loading = undefined));
    return this.loading;
  }

  /** A read plan for the selection, memoized per registry revision (no await once the registry is loaded). */
  plan(selection: FeatureSelection): ReadPlan | Promise<ReadPlan> {
    const snapshot = this.currentRegistry();
    if (snapshot === undefined) return this.refreshRegistry().then(() => this.plan(selection));
    const key = `${snapshot.revision}|${selection.featureService ?? ""}|${selection.fullFeatureNames === true}|${(selection.features ?? []).join(",")}`;
    let plan = this.plans.get(key);
    if (plan === undefined) {
      plan = planRead(snapshot, selection);
      if (this.plans.size > 10_000) this.plans.clear();
      this.plans.set(key, plan);
    }
    return plan;
  }

  /** Reads N entities × the selected features; `beforeRead` sees the plan first (an access check) and may throw. */
  async read(selection: FeatureSelection, entities: Readonly<Record<string, readonly unknown[]>>, readTimeMs?: number, beforeRead?: (plan: ReadPlan) => void): Promise<{ plan: ReadPlan; result: OnlineReadResult }> {
    const planned = this.plan(selection);
    const plan = planned instanceof Promise ? await planned : planned;
    beforeRead?.(plan);
    return { plan, result: await this.reader.read(plan, entities, readTimeMs) };
  }

  /** The latest version of a view, as a write target. */
  async target(view: string): Promise<WriteTarget> {
    const record = latestVersion(await this.registrySnapshot(), view);
    if (record === undefined) throw new NotFoundError("feature view", view, "define it and run `strata apply` first");
    return { ref: { view: record.name, version: record.version }, spec: record.spec };
  }

  /** Sends what is queued for the cache, then closes the cache and the durable store. */
  async close(): Promise<void> {
    await this.populate.close();
    await this.cache.close();
    await this.durable.close();
  }
}
