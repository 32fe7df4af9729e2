#!/usr/bin/env bash
# Stop everything start_all_services.sh started: backend-api (which stops its children), then any leftover.
# The work is `mt5p stop` (launcher/control.py), the same as on Windows.
set -uo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
  echo "Nothing to stop: the platform was never installed here (.venv is missing)."
  exit 0
fi
exec .venv/bin/python -m launcher stop
