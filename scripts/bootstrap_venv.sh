#!/usr/bin/env bash
# Create .venv and install the project (with the given extras) when missing or when pyproject.toml changed:
# scripts/bootstrap.py does it (the same on Windows). Usage: scripts/bootstrap_venv.sh [extras]   e.g. test
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-python3}" scripts/bootstrap.py "$@"
