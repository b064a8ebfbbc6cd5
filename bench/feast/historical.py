"""Feast reference run for the point-in-time join benchmark.

Strata is compared against Feast, so this script runs Feast 0.67.0's
`get_historical_features` the way a Feast user would: a throwaway feature repo
(local provider, default "file" offline store, i.e. Feast's Dask store) with one
FileSource + FeatureView per input Parquet file, `FeatureStore.apply`, then
`get_historical_features(entity_df=labels).to_df()` and the result written to
Parquet. Only that retrieval + write is timed. Feast's semantics: per label row,
the latest feature row with entity_ts - ttl <= event_timestamp <= entity_ts,
ties broken by the largest created_timestamp.

Known behaviour of Feast 0.67's file (Dask) store, measured as is, not patched:
- a label row is dropped from the output when, for some view, its driver has
  feature rows but none inside the window (only drivers absent from a view get
  nulls), so "rows" can be far below the label count;
- label rows with equal (driver_id, event_timestamp) are collapsed into one;
- the created_timestamp tie-break is not reliable on large inputs (unstable
  sort), so ties on event_timestamp may return either version;
- output row order is not the label order; int64 features with nulls become
  float64.

    historical.py --views-dir DIR --views v1,v2 --labels labels.parquet \
        --out out.parquet [--ttl-seconds N] [--timeout-seconds S] [--max-rss-mb M]

Prints one JSON line on stdout:
    {"tool":"feast","version":..,"seconds":..,"rows":..,"peak_rss_mb":..,"status":"ok"}
status is "ok", "timeout", "oom" or "failed" (then with "error"); the exit code
is 0 whenever that line is printed. Extra keys: label_rows, full_feature_names,
wall_seconds (whole child run: imports, apply, retrieval).

The work runs in a child process (the Feast venv's python, in its own session)
so that the parent can kill it at the deadline or when its RSS passes
--max-rss-mb, and read its peak RSS from getrusage(RUSAGE_CHILDREN) even then.
Feast's file store uses Dask's threaded scheduler, so the child is one process.
"""

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV_PYTHON = HERE.parent / ".venv-feast" / "bin" / "python"
RESERVED = ("driver_id", "event_timestamp", "created_timestamp")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--views-dir", required=True)
    p.add_argument("--views", required=True, help="comma separated view names")
    p.add_argument("--labels", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--ttl-seconds", type=int, default=0, help="0 = no ttl")
    p.add_argument("--timeout-seconds", type=float, default=600)
    p.add_argument("--max-rss-mb", type=float, default=None,
                   help="kill as oom above this RSS (default: 90%% of MemAvailable)")
    p.add_argument("--worker-result", help=argparse.SUPPRESS)  # internal
    return p.parse_args(argv)


# ---------------------------------------------------------------- child side

def run_worker(args):
    """Build the Feast repo, run the timed retrieval, write a result dict."""
    os.environ.setdefault("FEAST_USAGE", "False")
    import feast
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datetime import timedelta
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
    from feast import types as ft

    def feast_type(t):
        for check, dtype in ((pa.types.is_float32, ft.Float32), (pa.types.is_float64, ft.Float64),
                             (pa.types.is_int32, ft.Int32), (pa.types.is_int64, ft.Int64),
                             (pa.types.is_boolean, ft.Bool), (pa.types.is_string, ft.String),
                             (pa.types.is_large_string, ft.String),
                             (pa.types.is_timestamp, ft.UnixTimestamp)):
            if check(t):
                return dtype
        raise ValueError(f"no Feast type for arrow type {t}")

    result = {"tool": "feast", "version": feast.__version__, "seconds": None, "rows": None}
    try:
        repo = Path(args.worker_result).parent / "repo"  # removed by the parent
        repo.mkdir()
        (repo / "feature_store.yaml").write_text(
            "project: strata_bench\n"
            "provider: local\n"
            f"registry: {repo / 'registry.db'}\n"
            "online_store:\n"
            "  type: sqlite\n"
            f"  path: {repo / 'online.db'}\n"
            "offline_store:\n"
            "  type: file\n"
            "entity_key_serialization_version: 3\n"
        )
        driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)
        ttl = timedelta(seconds=args.ttl_seconds)  # timedelta(0) is Feast's "no ttl"
        views, refs = [], {}
        for name in args.views.split(","):
            path = Path(args.views_dir, f"{name}.parquet").resolve()
            schema = pq.read_schema(path)
            fields = [Field(name=f.name, dtype=feast_type(f.type))
                      for f in schema if f.name not in RESERVED]
            source = FileSource(name=f"{name}_source", path=str(path),
                                timestamp_field="event_timestamp",
                                created_timestamp_column="created_timestamp")
            views.append(FeatureView(name=name, entities=[driver], ttl=ttl,
                                     schema=fields, source=source, online=False))
            for f in fields:
                refs.setdefault(f.name, []).append(f"{name}:{f.name}")
        store = FeatureStore(repo_path=str(repo))
        store.apply([driver, *views])

        features = [r for rs in refs.values() for r in rs]
        # Feast refuses duplicate bare feature names; then use "view__feature" names.
        full_names = any(len(rs) > 1 for rs in refs.values())
        labels = pd.read_parquet(args.labels)

        start = time.perf_counter()
        df = store.get_historical_features(
            entity_df=labels, features=features, full_feature_names=full_names
        ).to_df()
        df.to_parquet(args.out, index=False)
        seconds = time.perf_counter() - start

        result.update(seconds=round(seconds, 3), rows=len(df), status="ok",
                      label_rows=len(labels), full_feature_names=full_names)
    except MemoryError:
        result.update(status="oom", error="MemoryError")
    except Exception as e:  # noqa: BLE001 - report any Feast failure as data
        result.update(status="failed", error=f"{type(e).__name__}: {e}"[:2000])
    Path(args.worker_result).write_text(json.dumps(result))


# --------------------------------------------------------------- parent side

def rss_mb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def mem_available_mb():
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return float("inf")


def feast_version(python):
    try:
        out = subprocess.run([python, "-c", "import importlib.metadata as m; print(m.version('feast'))"],
                             capture_output=True, text=True, timeout=60)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def run_parent(args, argv):
    python = str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable
    max_rss = args.max_rss_mb or 0.9 * mem_available_mb()
    with tempfile.TemporaryDirectory(prefix="feast-bench-result-") as tmp:
        result_path = Path(tmp, "result.json")
        cmd = [python, str(Path(__file__).resolve()), *argv, "--worker-result", str(result_path)]
        # Child stdout goes to our stderr: our stdout carries only the JSON line.
        child = subprocess.Popen(cmd, stdout=sys.stderr, start_new_session=True)
        # If we are terminated ourselves, take the child down with us.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        start = time.monotonic()
        killed_for = None
        try:
            while child.poll() is None:
                if time.monotonic() - start > args.timeout_seconds:
                    killed_for = "timeout"
                elif rss_mb(child.pid) > max_rss:
                    killed_for = "oom"
                if killed_for:
                    break
                time.sleep(0.2)
        finally:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        wall = time.monotonic() - start
        result = json.loads(result_path.read_text()) if result_path.exists() else None

    if result is None:
        result = {"tool": "feast", "version": feast_version(python), "seconds": None, "rows": None}
        if killed_for == "timeout":
            result.update(status="timeout", error=f"killed after {wall:.0f}s")
        elif killed_for == "oom":
            result.update(status="oom", error=f"killed above max RSS {max_rss:.0f} MB")
        elif child.returncode == -signal.SIGKILL:
            result.update(status="oom", error="worker SIGKILLed (likely kernel OOM killer)")
        else:
            result.update(status="failed", error=f"worker exited with code {child.returncode}")
    peak_kib = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                   resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    result["peak_rss_mb"] = round(peak_kib / 1024, 1)
    result["wall_seconds"] = round(wall, 3)  # whole child: imports + apply + retrieval
    print(json.dumps(result), flush=True)
    return 0  # the outcome is in "status"


def main():
    argv = sys.argv[1:]
    args = parse_args(argv)
    if args.worker_result:
        run_worker(args)
        return 0
    return run_parent(args, argv)


if __name__ == "__main__":
    sys.exit(main())
