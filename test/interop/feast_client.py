"""The Python side of test/interop/feast-client.test.ts: Feast's own SDK (0.67.0), configured
with its remote online store pointed at `strata serve`, reads and writes through Strata.

Usage: python feast_client.py <feast-repo-dir> < request.json > result.json

The request (JSON on stdin) names the entities to read and the rows to write:
  {"entity_ids": [1001, ...],
   "write": {"driver_id": [...], "conv_rate": [...], "acc_rate": [...], "avg_daily_trips": [...]}}
The result (one JSON document on stdout) holds, per call, `to_dict()` and the Python type name
of every value (so the test can tell 1.0 from 1), plus the exception raised for an unknown view.
Everything Feast logs goes to stderr; stdout carries the result only.
"""

import json
import sys
from datetime import datetime, timezone

FEATURES = [
    "driver_hourly_stats:conv_rate",
    "driver_hourly_stats:acc_rate",
    "driver_hourly_stats:avg_daily_trips",
]


def typed(response):
    """to_dict() of an OnlineResponse, with each value's Python type name beside it."""
    out = {}
    for name, values in response.to_dict().items():
        out[name] = {"values": list(values), "types": [type(v).__name__ for v in values]}
    return out


def main() -> None:
    repo = sys.argv[1]
    request = json.load(sys.stdin)
    result_out = sys.stdout
    sys.stdout = sys.stderr  # anything Feast prints must not corrupt the JSON result

    import feast
    import pandas as pd
    from feast import FeatureStore

    store = FeatureStore(repo_path=repo)
    rows = [{"driver_id": i} for i in request["entity_ids"]]
    result = {"feast_version": feast.__version__}

    result["features"] = typed(store.get_online_features(features=FEATURES, entity_rows=rows))
    service = store.get_feature_service("driver_ranking")
    result["service"] = typed(store.get_online_features(features=service, entity_rows=rows))
    result["full_feature_names"] = typed(
        store.get_online_features(features=FEATURES, entity_rows=rows, full_feature_names=True)
    )

    write = request["write"]
    now = datetime.now(timezone.utc).replace(microsecond=0)
    df = pd.DataFrame(
        {
            "driver_id": pd.Series(write["driver_id"], dtype="int64"),
            "event_timestamp": [now] * len(write["driver_id"]),
            "created": [now] * len(write["driver_id"]),
            "conv_rate": pd.Series(write["conv_rate"], dtype="float64"),
            "acc_rate": pd.Series(write["acc_rate"], dtype="float64"),
            "avg_daily_trips": pd.Series(write["avg_daily_trips"], dtype="int64"),
        }
    )
    store.write_to_online_store("driver_hourly_stats", df)
    written_rows = [{"driver_id": i} for i in write["driver_id"]]
    result["written_event_timestamp"] = now.isoformat()
    result["after_write"] = typed(store.get_online_features(features=FEATURES, entity_rows=written_rows))

    try:
        store.get_online_features(features=["no_such_view:conv_rate"], entity_rows=rows)
        result["unknown_view_error"] = None
    except Exception as error:  # the class is what the test checks
        result["unknown_view_error"] = {
            "class": type(error).__name__,
            "module": type(error).__module__,
            "message": str(error),
        }

    result_out.write(json.dumps(result, allow_nan=False))
    result_out.write("\n")
    result_out.flush()


if __name__ == "__main__":
    main()
