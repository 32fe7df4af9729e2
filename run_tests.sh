#!/usr/bin/env bash
# The one test command: installs what the tests need, then runs the whole suite (extra args go to pytest).
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap_venv.sh test

# Debian packages some tests drive; installed when missing (needs root, as on CI):
# chromium for the browser tests, a PostgreSQL server and docker-compose (whose `config` validates
# docker-compose.yml without a Docker engine) for the deployment tests.
packages=()
if [ -d tests/e2e ] && ! command -v chromium >/dev/null 2>&1; then packages+=(chromium); fi
if [ -d tests/deployment ]; then
  command -v docker-compose >/dev/null 2>&1 || packages+=(docker-compose)
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || packages+=(postgresql)
fi
if [ "${#packages[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian packages for the tests: ${packages[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  else
    echo "missing ${packages[*]} and this user cannot install them; the tests needing them will be skipped" >&2
  fi
fi

exec .venv/bin/python -m pytest "$@"
