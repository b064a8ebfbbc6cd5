import { batchSource, collectDefinitions, compileDefinitions, entity, featureService, featureView, Float32, Float64, Int64, pushSource, String as StringType } from "../../src/index.js";
import { FeatureStore } from "../../src/feature-store.js";
import type { OnlineService } from "../../src/online/online-service.js";
import type { App } from "../../src/server/app.js";
import { createServerApp } from "../../src/server/create-server-app.js";
import { makeProject } from "./project.js";

export const driver = entity({ name: "driver", joinKeys: ["driver_id"] });

/** driver_stats (ttl 1h), driver_profile (no ttl), fresh_stats (a push source), and the service `ranking`. */
export function onlineDefinitions() {
  const stats = featureView({ name: "driver_stats", entities: [driver], ttl: "1h", schema: { conv_rate: Float32, trips: Int64 }, source: batchSource({ path: "stats.parquet", timestampField: "ts" }) });
  const profile = featureView({ name: "driver_profile", entities: [driver], schema: { city: StringType, rating: Float64 }, source: batchSource({ path: "profile.parquet", timestampField: "ts" }) });
  const fresh = featureView({
    name: "fresh_stats",
    entities: [driver],
    schema: { conv_rate: Float32 },
    source: pushSource({ name: "stats_push", batchSource: batchSource({ path: "fresh.parquet", timestampField: "event_timestamp" }) }),
  });
  return { stats, profile, fresh, ranking: featureService({ name: "ranking", features: [stats, profile] }) };
}

/** A project with the online definitions applied, its online tier and the server app over it. */
export async function openOnlineProject(config: Record<string, unknown> = {}): Promise<{ store: FeatureStore; online: OnlineService; app: App; dir: string }> {
  const dir = await makeProject({ config });
  const store = await FeatureStore.open(dir, { actor: "test" });
  await store.apply(compileDefinitions(collectDefinitions(onlineDefinitions())));
  const online = await store.online();
  const app = createServerApp({ online, offlineIngest: (record, rows, ts) => store.ingestRows(record, rows, ts) });
  return { store, online, app, dir };
}
