#!/usr/bin/env bash
# The webhooks story (stories/webhooks/story.py) against real processes on 127.0.0.1: gunicorn, the worker
# (`manage.py worker`) and receivers that verify every request with the Standard Webhooks reference library
# (`standardwebhooks`, requirements-dev.txt). Twice by default: SQLite and PostgreSQL, both with the database
# queue. A receiver fails twice then succeeds; a meeting is planned; the worker is killed mid-attempt; a
# secret is rotated; a receiver answers 410; URLs to this machine are refused; an account is exported and
# deleted. See docs/webhooks.md.
#
# Usage: scripts/ci/webhooks.sh [sqlite|postgres ...]   (both by default); WEBHOOKS_KEEP=1 keeps the logs
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/ci/serve_lib.sh
started=$SECONDS

scripts/bootstrap.sh requirements-dev.txt

GUNICORN_PID=""
PG_TMPDIR=""
work=""
cleanup() {
  stop_pid "$GUNICORN_PID"
  GUNICORN_PID=""
  if [ -n "$PG_TMPDIR" ]; then scripts/pg-throwaway.sh stop "$PG_TMPDIR"; fi
  PG_TMPDIR=""
  if [ -n "$work" ] && [ "${WEBHOOKS_KEEP:-}" != 1 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

results=()
failed=0

# run_story NAME: one run of the story on a fresh database (NAME: sqlite or postgres).
run_story() {
  local name="$1"
  echo "== webhooks: $name"
  work="$(mktemp -d "/tmp/oneonone-webhooks-$name.XXXXXX")"
  unset DATABASE_URL REDIS_URL
  case "$name" in
    sqlite) export DATABASE_URL="sqlite:///$work/db.sqlite3" ;;
    postgres) start_pg ;;
    *) echo "webhooks: unknown run $name" >&2; return 1 ;;
  esac
  local web_port
  web_port="$(free_port)"
  # Shared by gunicorn and the worker: receivers on 127.0.0.1 over plain http; quick retries, a short lease
  # and a sweep every second, for the story. Emails go to the console (the worker's log).
  export DJANGO_SETTINGS_MODULE=oneonone.settings DJANGO_DEBUG=0 DJANGO_SECRET_KEY="webhooks-story-$(python3 -c 'import secrets; print(secrets.token_hex(24))')" \
    TASKS_BACKEND=database WEBHOOK_ALLOW_HTTP=1 WEBHOOK_ALLOWED_HOSTS=127.0.0.1 \
    WEBHOOK_RETRY_BASE_SECONDS=1 WEBHOOK_RETRY_MAX_SECONDS=2 WEBHOOK_SEND_LEASE_SECONDS=2 DELIVERY_SWEEP_SECONDS=1 \
    AUTH_THROTTLE_RATE=1000/min REGISTER_THROTTLE_RATE=1000/hour
  .venv/bin/python manage.py migrate --noinput >/dev/null
  .venv/bin/python manage.py createcachetable
  start_gunicorn "$web_port" "$work/web.log"
  wait_http_ok "http://127.0.0.1:$web_port/healthz/" 60 "$GUNICORN_PID"
  local status=0
  timeout 300 .venv/bin/python stories/webhooks/story.py --base-url "http://127.0.0.1:$web_port" --work "$work" \
    --python .venv/bin/python || status=$?
  if grep -q '" 5[0-9][0-9] ' "$work/web.log"; then
    echo "webhooks ($name): the server answered 5xx:" >&2
    grep '" 5[0-9][0-9] ' "$work/web.log" | head -5 >&2
    status=1
  fi
  if [ "$status" != 0 ]; then
    failed=1
    echo "--- worker log (last lines)"; tail -n 30 "$work/worker.log" 2>/dev/null || true
    echo "--- web log (last lines)"; tail -n 15 "$work/web.log" 2>/dev/null || true
  fi
  results+=("$name: $([ "$status" = 0 ] && echo passed || echo FAILED)")
  cleanup
}

runs=("$@")
[ "${#runs[@]}" -gt 0 ] || runs=(sqlite postgres)
for run in "${runs[@]}"; do
  run_story "$run"
done
printf 'webhooks: %s (%s s)\n' "${results[*]}" "$((SECONDS - started))"
exit "$failed"
