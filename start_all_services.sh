#!/usr/bin/env bash
# Start the platform: backend-api, which starts and supervises the six other services.
# First run creates .venv and installs the project. Safe to run twice: it reports what is already running.
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap_venv.sh

py=.venv/bin/python
eval "$($py -m services.backend_api.paths)"   # LOG_DIR, PID_FILE, PORT, HOST, CONFIG (validates the config too)

if [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
  echo "The platform is already running (backend-api pid $(cat "$PID_FILE"))."
else
  mkdir -p "$LOG_DIR"
  echo "Starting backend-api on $HOST:$PORT (config: $CONFIG)"
  nohup "$py" -m services.backend_api >> "$LOG_DIR/backend-api.console.log" 2>&1 < /dev/null &
  echo "$!" > "$PID_FILE"
fi

if ! "$py" test_services.py --wait "${START_TIMEOUT_S:-60}" --quiet; then
  echo "Not every service came ONLINE; the report:" >&2
  "$py" test_services.py || true
  echo "Logs: $LOG_DIR  (each service: <name>.log; crashes at start: <name>.console.log)" >&2
  exit 1
fi
"$py" test_services.py
echo
echo "Dashboard: $("$py" -m services.backend_api.paths --dashboard-url)"
echo "Logs:      $LOG_DIR"
echo "Stop:      ./stop_all_services.sh"
