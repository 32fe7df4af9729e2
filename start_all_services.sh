#!/usr/bin/env bash
# Start the platform: backend-api, which starts and supervises the six other services.
# First run creates .venv and installs the project. Safe to run twice: it reports what is already running.
# Both steps are Python (scripts/bootstrap.py, then `mt5p start`), the same as on Windows.
set -euo pipefail
cd "$(dirname "$0")"
exec "${PYTHON:-python3}" scripts/bootstrap.py --run -m launcher start
