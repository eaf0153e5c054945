# Helpers shared by scripts/ci/fuzz.sh and db_outage.sh (sourced, not run): a free port, waiting for HTTP,
# gunicorn started on 127.0.0.1 in the background. Callers set `set -euo pipefail`.

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL SECONDS: succeed as soon as URL answers any HTTP status, fail after SECONDS.
wait_http() {
  local url="$1" deadline=$((SECONDS + $2))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if curl -s -o /dev/null --max-time 2 "$url"; then
      return 0
    fi
    sleep 0.2
  done
  echo "no answer from $url after $2 s" >&2
  return 1
}

# start_gunicorn PORT LOGFILE [extra gunicorn args...]: starts it in the background, sets GUNICORN_PID.
start_gunicorn() {
  local port="$1" log="$2"
  shift 2
  .venv/bin/gunicorn oneonone.wsgi -c oneonone/gunicorn.conf.py --bind "127.0.0.1:$port" \
    --workers 2 --access-logfile - --error-logfile - "$@" >"$log" 2>&1 &
  GUNICORN_PID=$!
}

# stop_pid PID: TERM, then KILL after 10 s; never fails.
stop_pid() {
  local pid="$1"
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  kill -9 "$pid" 2>/dev/null || true
}
