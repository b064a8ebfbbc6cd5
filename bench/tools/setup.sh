#!/usr/bin/env bash
# Load tools for the online-serving benchmark: oha (HTTP load at a fixed concurrency or a fixed,
# latency-corrected rate) from crates.io, and redis-benchmark (Debian's redis-tools).
# Idempotent; the first oha build takes about 10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/ensure-packages.sh
if ! command -v oha >/dev/null && [ ! -x "$HOME/.cargo/bin/oha" ]; then
  echo "bench tools: building oha 1.16.0 with cargo (about 10 minutes)" >&2
  cargo install oha --version 1.16.0 --locked
fi
