// Feature definitions for the driver example. `strata plan` shows what changes, `strata apply` records it.
import { batchSource, entity, featureService, featureView, Float32, Int64 } from "strata";

export const driver = entity({ name: "driver", joinKeys: ["driver_id"], description: "A driver on the platform" });

export const driverStats = featureView({
  name: "driver_hourly_stats",
  entities: [driver],
  ttl: "2d",
  schema: { conv_rate: Float32, acc_rate: Float32, avg_daily_trips: Int64 },
  source: batchSource({ path: "data/driver_stats.parquet", timestampField: "event_timestamp", createdTimestampField: "created" }),
  owner: "rides-ml",
  tags: { team: "rides" },
  description: "Hourly driver statistics",
});

export const driverRanking = featureService({ name: "driver_ranking", features: [driverStats], owner: "rides-ml" });
