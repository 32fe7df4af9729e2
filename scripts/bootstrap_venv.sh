#!/usr/bin/env bash
# Create .venv and install the project (with the given extras) when missing or when pyproject.toml changed.
# Usage: scripts/bootstrap_venv.sh [extras]   e.g. scripts/bootstrap_venv.sh test
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
spec="."
[ -n "$extras" ] && spec=".[$extras]"
stamp=".venv/.installed-$(echo "${extras:-base}" | tr ',' '-')"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"

if [ ! -x .venv/bin/python ]; then
  py="${PYTHON:-python3}"
  if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "Python 3.11 or newer is needed (found: $("$py" --version 2>&1))" >&2
    exit 1
  fi
  echo "Creating .venv with $("$py" --version)"
  "$py" -m venv .venv
fi
# An install with more extras (e.g. "test") also satisfies a plain install of the same pyproject.toml.
satisfied=0
for f in .venv/.installed-*; do
  [ -f "$f" ] || continue
  if [ "$(cat "$f")" = "$want" ] && { [ "$f" = "$stamp" ] || [ -z "$extras" ]; }; then satisfied=1; fi
done
if [ "$satisfied" = 0 ]; then
  echo "Installing the project into .venv ($spec); the first time takes a minute or two"
  log=.venv/install.log
  if ! { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -e "$spec"; } > "$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "installation failed; the whole pip output is in $log" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi
# The dashboard's chart library, from the npm registry as locked (no Node needed).
.venv/bin/python scripts/fetch_dashboard_assets.py
