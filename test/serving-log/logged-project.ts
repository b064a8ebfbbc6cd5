import { arrayOf, batchSource, Bool, collectDefinitions, compileDefinitions, entity, featureService, featureView, Float32, Float64, Int64, String as StringType, Timestamp } from "../../src/index.js";
import { FeatureStore } from "../../src/feature-store.js";
import type { OnlineService } from "../../src/online/online-service.js";
import type { App } from "../../src/server/app.js";
import { createServerApp } from "../../src/server/create-server-app.js";
import { parseJsonExact } from "../../src/server/json.js";
import { LineBatches } from "../../src/serving-log/log-writer.js";
import type { ServingLogSink } from "../../src/serving-log/parquet-log-sink.js";
import { ServingLog } from "../../src/serving-log/serving-log.js";
import { driver, onlineDefinitions } from "../helpers/online-project.js";
import { makeProject } from "../helpers/project.js";

/** Customers have a string key: a distinctive one is easy to find (or not) in a file's bytes. */
export const customer = entity({ name: "customer", joinKeys: ["customer_id"], valueType: StringType });

/** The online test views plus customer_profile (every value type) and `scoring`, a service over two entities. */
export function loggedDefinitions() {
  const base = onlineDefinitions();
  const profile = featureView({
    name: "customer_profile",
    entities: [customer],
    schema: { segment: StringType, score: Float64, big: Int64, active: Bool, seen_at: Timestamp, embedding: arrayOf(Float32) },
    source: batchSource({ path: "customers.parquet", timestampField: "ts" }),
  });
  const scoring = featureService({ name: "scoring", features: [profile, base.stats] });
  return { ...base, driver, customer, profile, scoring };
}

export interface LoggedProject {
  readonly store: FeatureStore;
  readonly online: OnlineService;
  readonly app: App;
  readonly dir: string;
  readonly log: ServingLog | undefined;
  /** POSTs in-process; the body (parsed exactly: big integers as bigints) and the response headers. */
  post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown>; headers: Readonly<Record<string, string>> }>;
  close(): Promise<void>;
}

/** A project with `servingLog` settings, the definitions applied, and the server app with its serving log (optionally over `sink`). */
export async function openLoggedProject(servingLog: Record<string, unknown>, sink?: (offlineRoot: string) => ServingLogSink): Promise<LoggedProject> {
  const dir = await makeProject({ config: { servingLog } });
  const store = await FeatureStore.open(dir, { actor: "test" });
  await store.apply(compileDefinitions(collectDefinitions(loggedDefinitions())));
  const online = await store.online();
  // A sink given: rendered and written on this thread (LineBatches), so a test can stall or fail its writes.
  const writer = sink === undefined ? undefined : new LineBatches(sink(store.config.offline.path), store.config.servingLog.maxWriteAttempts);
  const log = ServingLog.fromConfig(store.config, online.metrics.registry, writer);
  const app = createServerApp({ online, offlineIngest: (record, rows, ts) => store.ingestRows(record, rows, ts), servingLog: log });
  return {
    store,
    online,
    app,
    dir,
    log,
    async post(path, body) {
      const response = await app.handle({ method: "POST", path, body: Buffer.from(JSON.stringify(body)), headers: {} });
      return { status: response.status, json: parseJsonExact(response.body === "" ? "{}" : response.body) as Record<string, unknown>, headers: response.headers ?? {} };
    },
    async close() {
      await log?.close();
      await store.close();
    },
  };
}

const iso = (msAgo: number): string => new Date(Date.now() - msAgo).toISOString();

/** Values in every view: drivers 1 (fresh), 2 (outside driver_stats' ttl), 3 (a null); customers with every type, including `subject`. */
export async function writeValues(p: LoggedProject, subject = "zq-subject-7f3e9a"): Promise<void> {
  const write = async (view: string, df: Record<string, unknown[]>): Promise<void> => {
    const { status, json } = await p.post("/write-to-online-store", { feature_view_name: view, df });
    if (status !== 200) throw new Error(`write ${view}: ${JSON.stringify(json)}`);
  };
  await write("driver_stats", { driver_id: [1, 2, 3], ts: [iso(60_000), iso(2 * 3_600_000), iso(1_234)], conv_rate: [0.1234, 0.25, null], trips: [10, 20, 30] });
  await write("driver_profile", { driver_id: [1, 3], ts: [iso(60_000), "2024-02-29T12:00:00.123456Z"], city: ["ams", "b\"er\u00e9"], rating: [2, 4.5] });
  await write("customer_profile", {
    customer_id: [subject, "c-2", "c-3"],
    ts: [iso(5_000), iso(6_000), iso(7_000)],
    segment: ["gold", "silver", null],
    score: [0.30000000000000004, 1e-7, 12345.678],
    big: ["9007199254740993", -5, 0],
    active: [true, false, true],
    seen_at: ["2024-05-01T10:00:00.654321Z", "2024-05-02T00:00:00Z", null],
    embedding: [[0.5, -1.25], [], null],
  });
  await p.online.populate.drain();
}
