# Helpers shared by every scripts/ci/*.sh and scripts/test.sh (sourced, not run): free ports, waiting for HTTP,
# a throwaway PostgreSQL, gunicorn on 127.0.0.1 in the background, stopping what was started. Callers set
# `set -euo pipefail`.
# The Python side of the same helpers is tests/support.py.

# free_port: one TCP port on 127.0.0.1 that nothing listens on.
free_port() {
  free_ports 1
}

# free_ports N: N different free ports on one line (all held open while they are picked, so never twice the same).
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
sockets = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in sockets))
EOF
}

# _wait_http WANT URL SECONDS [PID]: until URL answers status WANT ("any": any HTTP status). Fails at once if
# PID exits first. curl's own timeouts (connect or read) count as no answer yet.
_wait_http() {
  local want="$1" url="$2" seconds="$3" pid="${4:-}" status=""
  local deadline=$((SECONDS + seconds))
  while :; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "the server for $url exited while starting" >&2
      return 1
    fi
    status="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null || true)"
    if [ "$status" != 000 ] && [ -n "$status" ] && { [ "$want" = any ] || [ "$status" = "$want" ]; }; then
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "no ${want/any/HTTP} answer from $url within $seconds s (last: ${status:-none})" >&2
      return 1
    fi
    sleep 0.2
  done
}

# wait_http URL SECONDS [PID]: until URL answers any HTTP status.
wait_http() {
  _wait_http any "$@"
}

# wait_http_ok URL SECONDS [PID]: until URL answers 200 (a health check that reached the database).
wait_http_ok() {
  _wait_http 200 "$@"
}

# start_pg [VAR=value...]: a throwaway PostgreSQL (scripts/pg-throwaway.sh, with VAR=value in its environment);
# sets and exports DATABASE_URL, PG_TMPDIR and PG_PORT. Unlike `eval "$(scripts/pg-throwaway.sh)"`, a cluster
# that did not start is a failure, not an empty eval that leaves the caller on SQLite.
start_pg() {
  local lines
  lines="$(env "$@" scripts/pg-throwaway.sh)" || {
    echo "could not start a throwaway PostgreSQL" >&2
    return 1
  }
  eval "$lines"
}

# start_gunicorn PORT LOGFILE [extra gunicorn args...]: starts it in the background, sets GUNICORN_PID.
# Logs go to LOGFILE unless the extra arguments send them elsewhere (later options win).
start_gunicorn() {
  local port="$1" log="$2"
  shift 2
  .venv/bin/gunicorn oneonone.wsgi -c oneonone/gunicorn.conf.py --bind "127.0.0.1:$port" \
    --workers 2 --access-logfile - --error-logfile - "$@" >"$log" 2>&1 &
  GUNICORN_PID=$!
}

# stop_pid PID...: TERM each, then KILL whichever is left after 10 s; empty arguments are skipped; never fails.
stop_pid() {
  _stop_signalled "" "$@"
}

# stop_group PGID...: as stop_pid, for whole process groups (a server started with setsid, and its workers).
stop_group() {
  _stop_signalled - "$@"
}

_stop_signalled() {
  local prefix="$1" target
  shift
  local targets=()
  for target in "$@"; do
    [ -n "$target" ] && kill -TERM -- "$prefix$target" 2>/dev/null && targets+=("$prefix$target")
  done
  [ "${#targets[@]}" -gt 0 ] || return 0
  for _ in $(seq 50); do
    local alive=0
    for target in "${targets[@]}"; do
      kill -0 -- "$target" 2>/dev/null && alive=1
    done
    [ "$alive" = 0 ] && return 0
    sleep 0.2
  done
  for target in "${targets[@]}"; do
    kill -KILL -- "$target" 2>/dev/null || true
  done
  return 0
}

# mutation_venv: .venv-mutation (mutmut with the application's requirements, requirements-mutation.txt), made
# or refreshed when a requirements file is newer than it; .venv first (scripts/bootstrap.sh).
mutation_venv() {
  scripts/bootstrap.sh requirements.txt >/dev/null
  if [ ! -x .venv-mutation/bin/mutmut ] || [ requirements-mutation.txt -nt .venv-mutation/.installed ] ||
    [ requirements-dev.txt -nt .venv-mutation/.installed ] || [ requirements.txt -nt .venv-mutation/.installed ]; then
    "${PYTHON:-python3}" -m venv .venv-mutation
    .venv-mutation/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-mutation.txt
    touch .venv-mutation/.installed
  fi
}
