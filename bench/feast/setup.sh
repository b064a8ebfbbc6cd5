#!/usr/bin/env bash
# Creates bench/.venv-feast with Feast 0.67.0 (pinned in requirements.txt) for
# bench/feast/historical.py, the Feast reference peer of the Strata benchmark.
# Idempotent: a marker holding the hash of requirements.txt skips a re-install.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$(cd "$here/.." && pwd)/.venv-feast"
req="$here/requirements.txt"
marker="$venv/.installed"
want="$(sha256sum "$req" | cut -d' ' -f1)"

if [[ -x "$venv/bin/python" && -f "$marker" && "$(cat "$marker")" == "$want" ]]; then
  echo "feast venv ready: $venv"
  exit 0
fi

echo "installing feast into $venv ..."
"${PYTHON:-python3}" -m venv "$venv"
echo '*' > "$venv/.gitignore"   # keep the venv out of git without touching repo files
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
"$venv/bin/python" -c 'import feast; assert feast.__version__ == "0.67.0", feast.__version__'
echo "$want" > "$marker"
echo "feast venv ready: $venv"
