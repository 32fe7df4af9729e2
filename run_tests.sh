#!/usr/bin/env bash
# The one test command: installs what the tests need, then runs the whole suite (extra args go to pytest).
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap_venv.sh test

# Browser tests drive Debian's chromium; install it when missing (needs root, as on CI).
if [ -d tests/e2e ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing and this user cannot install it; browser tests will be skipped" >&2
  fi
fi

exec .venv/bin/python -m pytest "$@"
