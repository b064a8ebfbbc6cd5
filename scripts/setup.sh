#!/usr/bin/env bash
# Installs the npm dependencies when missing or stale, then builds (incremental).
# Quick when nothing changed; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# better-sqlite3 compiles from source when no prebuilt binary can be downloaded; node-gyp then
# needs Node's headers, which Debian-style installs keep under /usr/include/node.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then
  export npm_config_nodedir=/usr
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (first run compiles SQLite bindings; about 2 minutes)" >&2
  # `npm install` follows package-lock.json; unlike `npm ci` it tolerates registries that carry
  # only this platform's optional binaries (DuckDB ships one package per platform).
  npm install --no-audit --no-fund --loglevel=error
fi
./node_modules/.bin/tsc -p tsconfig.json
# tsc never removes what a moved or deleted source compiled to, and a stale test would still run.
find dist -name '*.js' | while read -r out; do
  source="${out#dist/}"
  [ -f "${source%.js}.ts" ] || rm -f "$out" "${out%.js}.d.ts"
done
