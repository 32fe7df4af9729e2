#!/usr/bin/env bash
# Stop everything start_all_services.sh started: backend-api (which stops its children), then any leftover.
set -uo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
  echo "Nothing to stop: the platform was never installed here (.venv is missing)."
  exit 0
fi
eval "$(.venv/bin/python -m services.backend_api.paths)"

stop_pid() {  # $1 name, $2 pid, $3 seconds to wait after SIGTERM
  local name=$1 pid=$2 wait_s=$3
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq $((wait_s * 10))); do
    kill -0 "$pid" 2>/dev/null || { echo "Stopped $name (pid $pid)."; return 0; }
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null; kill -KILL "$pid" 2>/dev/null
  echo "Killed $name (pid $pid): it did not stop within ${wait_s}s."
}

found=0
if [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
  found=1
  stop_pid backend-api "$(cat "$PID_FILE")" 30
fi
rm -f "$PID_FILE"
# Children left behind (backend-api killed with -9 before it could stop them) have their own pid files.
for f in "$LOG_DIR"/*.pid; do
  [ -e "$f" ] || continue
  pid=$(cat "$f"); name=$(basename "$f" .pid)
  if kill -0 "$pid" 2>/dev/null && grep -qa "services\." "/proc/$pid/cmdline" 2>/dev/null; then
    found=1
    kill -TERM -- "-$pid" 2>/dev/null
    stop_pid "$name" "$pid" 10
  fi
  rm -f "$f"
done
[ "$found" = 1 ] || echo "Nothing was running."
exit 0
