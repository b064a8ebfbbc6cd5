#!/usr/bin/env bash
# Makes sure the Debian packages the test suites start servers from are installed:
# PostgreSQL (registry suite) and Redis (online store suite: redis-server, plus redis-cli and
# redis-benchmark from redis-tools), and Python's venv (the Feast interoperability suite runs
# Feast's own client), and NATS (the streaming suites start nats-server with JetStream). Installs what is missing when run as root (or with sudo).
set -euo pipefail

missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
for binary in redis-server redis-cli redis-benchmark; do
  command -v "$binary" >/dev/null || { missing+=(redis-server); break; }
done
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || missing+=(nats-server)

[ ${#missing[@]} -eq 0 ] && exit 0
echo "ensure-packages: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
elif command -v sudo >/dev/null; then
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "ensure-packages: missing Debian packages ${missing[*]}; install them (apt-get install ${missing[*]}) and run again" >&2
  exit 1
fi
