import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { aggregationView, batchSource, collectDefinitions, compileDefinitions, entity, featureView, Float64, Int64, streamSource, String as StringType } from "../../src/index.js";
import type { FeatureStore } from "../../src/feature-store.js";
import type { DuckDb } from "../../src/offline/duckdb.js";
import { withBlockFiles } from "../../src/aggregation/block-files.js";
import { quoteString } from "../../src/util/sql.js";

/** The data subject: a key no other value in the data contains, so a byte scan can look for it. */
export const SUBJECT = "cust-ERASE-7f3a9c";
export const OTHERS = Array.from({ length: 30 }, (_, i) => `cust-keep-${i}`);
export const MERCHANTS = ["m-1", "m-2", "m-3"];
const HOUR = 3_600_000;

/**
 * customer_profile (one key), customer_merchant (customer × merchant: the subject names only
 * part of its key) and, with `nats`, customer_activity (an aggregation view over a JetStream subject).
 */
export function erasureDefinitions(options: { stream?: boolean } = {}) {
  const customer = entity({ name: "customer", joinKeys: ["customer_id"], valueType: StringType });
  const merchant = entity({ name: "merchant", joinKeys: ["merchant_id"], valueType: StringType });
  const profile = featureView({ name: "customer_profile", entities: [customer], schema: { spend: Float64, tier: StringType }, source: batchSource({ path: "profile.parquet", timestampField: "ts" }) });
  const visits = featureView({ name: "customer_merchant", entities: [customer, merchant], schema: { visits: Int64 }, source: batchSource({ path: "cm.parquet", timestampField: "ts" }) });
  const activity = aggregationView({
    name: "customer_activity",
    entities: [customer],
    schema: { amount: Float64 },
    source: streamSource({ nats: { stream: "pay", subject: "pay.*" }, timestampField: "ts", batch: batchSource({ path: "pay.parquet", timestampField: "ts" }) }),
    aggregations: [
      { column: "*", function: "count", window: "1d" },
      { column: "amount", function: "sum", window: "1d" },
    ],
    // Wide enough that a replay of the stream is not late: only the erasure's boundary keeps the subject's events out.
    allowedLateness: "2d",
  });
  return options.stream === true ? { customer, merchant, profile, visits, activity } : { customer, merchant, profile, visits };
}

/** Rows over three days before `nowMs`, `perCustomer` per customer in each view; the subject's among them. */
export function erasureRows(nowMs: number, perCustomer = 12) {
  const customers = [SUBJECT, ...OTHERS];
  const profile: Record<string, unknown>[] = [];
  const visits: Record<string, unknown>[] = [];
  customers.forEach((c, ci) => {
    for (let i = 0; i < perCustomer; i++) {
      const ts = new Date(nowMs - 72 * HOUR + ((i * 6 + ci) % 70) * HOUR).toISOString();
      profile.push({ customer_id: c, ts, spend: ci * 100 + i, tier: i % 2 === 0 ? "gold" : "silver" });
      visits.push({ customer_id: c, merchant_id: MERCHANTS[i % MERCHANTS.length], ts, visits: i });
    }
  });
  // A row with the subject's key in a feature value only (not its key): not the subject's row, and must survive.
  profile.push({ customer_id: "cust-bystander", ts: new Date(nowMs - 10 * HOUR).toISOString(), spend: 1, tier: "none" });
  return { profile, visits };
}

/** Applies the definitions and ingests the rows into the offline store. */
export async function loadErasureProject(store: FeatureStore, nowMs: number, options: { stream?: boolean; perCustomer?: number } = {}): Promise<void> {
  await store.apply(compileDefinitions(collectDefinitions(erasureDefinitions(options))));
  const snapshot = await store.snapshot();
  const { profile, visits } = erasureRows(nowMs, options.perCustomer);
  await store.ingestRows(snapshot.views.find((v) => v.name === "customer_profile")!, profile, "ts");
  await store.ingestRows(snapshot.views.find((v) => v.name === "customer_merchant")!, visits, "ts");
}

/** Every file under a folder whose raw bytes hold `needle` (relative paths). */
export async function filesHoldingBytes(root: string, needle: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const found: string[] = [];
  for (const e of entries.filter((x) => x.isFile())) {
    const path = join(e.parentPath, e.name);
    if ((await readFile(path)).includes(Buffer.from(needle))) found.push(path.slice(root.length + 1));
  }
  return found;
}

/** Every Parquet or DuckDB file under a folder whose decoded rows mention `needle` in any column (compression cannot hide it). */
export async function offlineFilesMentioning(duck: DuckDb, root: string, needle: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const found: string[] = [];
  for (const e of entries.filter((x) => x.isFile() && (x.name.endsWith(".parquet") || x.name.endsWith(".duckdb")))) {
    const path = join(e.parentPath, e.name);
    // Day blocks are DuckDB files (src/aggregation/block-files.ts), events Parquet.
    const rows = path.endsWith(".duckdb")
      ? await withBlockFiles(duck, [path], (blocks) => duck.rows(`SELECT * FROM ${blocks}`))
      : await duck.rows(`SELECT * FROM read_parquet(${quoteString(path)}, hive_partitioning = false)`);
    if (rows.some((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)).includes(needle))) found.push(path.slice(root.length + 1));
  }
  return found;
}

/** Counts the rows of a view's committed offline data per customer (an oracle for "others untouched"). */
export async function rowsPerCustomer(store: FeatureStore, view: string): Promise<Map<string, number>> {
  const duck = await store.engine();
  const root = join(store.config.offline.path, view, "v1");
  const rows = await duck.rows(`SELECT customer_id AS c, count(*) AS n FROM read_parquet(${quoteString(`${root}/date=*/*.parquet`)}, hive_partitioning = false) GROUP BY ALL`);
  return new Map(rows.map((r) => [String(r.c), Number(r.n as bigint)]));
}
