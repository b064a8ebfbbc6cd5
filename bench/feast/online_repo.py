"""Feast reference for the online-serving benchmark: a Feast repo over the benchmark's
Parquet files with Feast's Redis online store, applied and materialized, ready for
`feast serve`. Strata is compared against Feast's Python feature server over the same data
in the same Redis, so this builds what a Feast user would run.

    online_repo.py --views-dir DIR --views a,b,c --redis-port P --repo-dir OUT [--ttl-seconds N]

Prints one JSON line: {"status": "ok", "materialize_seconds": ..., "repo": OUT}.
"""

import argparse
import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow.parquet as pq

FEAST_TYPES = {"float": "Float32", "double": "Float64", "int64": "Int64", "int32": "Int32", "string": "String", "large_string": "String", "bool": "Bool"}
RESERVED = ("driver_id", "event_timestamp", "created_timestamp")


def definitions(views_dir: Path, views, ttl_seconds: int) -> str:
    lines = [
        "from datetime import timedelta",
        "from feast import Entity, FeatureView, Field, FileSource, ValueType",
        "from feast.types import Float32, Float64, Int32, Int64, String, Bool",
        'driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)',
    ]
    for view in views:
        schema = pq.read_schema(views_dir / f"{view}.parquet")
        fields = [f'Field(name="{f.name}", dtype={FEAST_TYPES[str(f.type)]})' for f in schema if f.name not in RESERVED]
        lines.append(
            f'{view} = FeatureView(name="{view}", entities=[driver], ttl=timedelta(seconds={ttl_seconds}), online=True, '
            f'schema=[{", ".join(fields)}], '
            f'source=FileSource(name="{view}_source", path="{views_dir / (view + ".parquet")}", timestamp_field="event_timestamp", created_timestamp_column="created_timestamp"))'
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--views-dir", required=True)
    p.add_argument("--views", required=True)
    p.add_argument("--redis-port", required=True, type=int)
    p.add_argument("--repo-dir", required=True)
    p.add_argument("--ttl-seconds", type=int, default=86400)
    args = p.parse_args()
    repo = Path(args.repo_dir)
    repo.mkdir(parents=True, exist_ok=True)
    (repo / "data").mkdir(exist_ok=True)
    (repo / "feature_store.yaml").write_text(
        "project: strata_bench\nprovider: local\nregistry: data/registry.db\n"
        f'online_store:\n  type: redis\n  connection_string: "127.0.0.1:{args.redis_port}"\n'
        "offline_store:\n  type: file\nentity_key_serialization_version: 3\n"
    )
    (repo / "definitions.py").write_text(definitions(Path(args.views_dir), args.views.split(","), args.ttl_seconds))
    subprocess.run([str(Path(sys.executable).parent / "feast"), "apply"], cwd=repo, check=True, capture_output=True)
    from feast import FeatureStore

    store = FeatureStore(repo_path=str(repo))
    end = datetime.now(timezone.utc) + timedelta(minutes=1)
    started = time.perf_counter()
    store.materialize(start_date=end - timedelta(days=7), end_date=end)
    print(json.dumps({"status": "ok", "materialize_seconds": time.perf_counter() - started, "repo": str(repo)}))


if __name__ == "__main__":
    main()
