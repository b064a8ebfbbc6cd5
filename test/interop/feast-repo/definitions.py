"""Feast definitions mirroring the Strata driver example (`strata init`): same entity, view,
fields, ttl and service, so Feast's client can read (and write) through Strata's server.

Copied into a temporary Feast repo by test/interop/feast-client.test.ts and applied with
`feast apply` (which imports every .py file in the repo folder; nothing else lives there).
The parquet path comes from STRATA_DRIVER_STATS: the Strata project's data/driver_stats.parquet.
"""

import os
from datetime import timedelta

from feast import Entity, FeatureService, FeatureView, Field, FileSource, ValueType
from feast.types import Float32, Int64

driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)

driver_stats_source = FileSource(
    name="driver_stats_source",
    path=os.environ["STRATA_DRIVER_STATS"],
    timestamp_field="event_timestamp",
    created_timestamp_column="created",
)

driver_hourly_stats = FeatureView(
    name="driver_hourly_stats",
    entities=[driver],
    ttl=timedelta(days=2),
    schema=[
        Field(name="conv_rate", dtype=Float32),
        Field(name="acc_rate", dtype=Float32),
        Field(name="avg_daily_trips", dtype=Int64),
    ],
    source=driver_stats_source,
)

driver_ranking = FeatureService(name="driver_ranking", features=[driver_hourly_stats])
