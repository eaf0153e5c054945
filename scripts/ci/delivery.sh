#!/usr/bin/env bash
# The delivery story (stories/delivery/story.py) against real processes on 127.0.0.1: gunicorn, the worker
# (`manage.py worker`) and an SMTP server (aiosmtpd), three times: SQLite with the database queue,
# PostgreSQL with the database queue, PostgreSQL with the Redis queue (RQ). People confirm their addresses
# from the mailed links and fix a meeting; the mail server goes away and comes back; the worker is killed
# mid-batch; a mailbox is refused; finalize is timed beside a slow mail server. See docs/deploy.md.
#
# Usage: scripts/ci/delivery.sh [sqlite|postgres|redis ...]   (all three by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/ci/serve_lib.sh
started=$SECONDS

scripts/bootstrap.sh requirements-dev.txt
command -v redis-server >/dev/null || {
  if [ "$(id -u)" = 0 ]; then apt-get install -y -q --no-install-recommends redis-server >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends redis-server >/dev/null; }; fi
}

GUNICORN_PID=""
REDIS_PID=""
PG_TMPDIR=""
work=""
cleanup() {
  stop_pid "$GUNICORN_PID" "$REDIS_PID"
  GUNICORN_PID="" REDIS_PID=""
  if [ -n "$PG_TMPDIR" ]; then scripts/pg-throwaway.sh stop "$PG_TMPDIR"; fi
  PG_TMPDIR=""
  if [ -n "$work" ] && [ "${DELIVERY_KEEP:-}" != 1 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

results=()
failed=0

# run_story NAME: one run of the story on a fresh database (NAME: sqlite, postgres or redis).
run_story() {
  local name="$1"
  echo "== delivery: $name"
  work="$(mktemp -d "/tmp/oneonone-delivery-$name.XXXXXX")"
  unset DATABASE_URL REDIS_URL
  export TASKS_BACKEND=database
  case "$name" in
    sqlite) export DATABASE_URL="sqlite:///$work/db.sqlite3" ;;
    postgres) start_pg ;;
    redis)
      start_pg
      local redis_port
      redis_port="$(free_port)"
      redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --dir "$work" \
        >"$work/redis.log" 2>&1 &
      REDIS_PID=$!
      export REDIS_URL="redis://127.0.0.1:$redis_port/0" TASKS_BACKEND=redis
      for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
      ;;
  esac
  local web_port smtp_port
  read -r web_port smtp_port <<<"$(free_ports 2)"
  # What the web servers and the worker share; the worker retries quickly and sweeps often, for the story.
  export DJANGO_SETTINGS_MODULE=oneonone.settings DJANGO_DEBUG=0 DJANGO_SECRET_KEY="delivery-story-$(python3 -c 'import secrets; print(secrets.token_hex(24))')" \
    EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend EMAIL_HOST=127.0.0.1 EMAIL_PORT="$smtp_port" \
    EMAIL_TIMEOUT=15 EMAIL_RETRY_BASE_SECONDS=1 EMAIL_RETRY_MAX_SECONDS=2 EMAIL_MAX_ATTEMPTS=8 \
    EMAIL_SEND_LEASE_SECONDS=4 DELIVERY_SWEEP_SECONDS=1 DEADLINE_SWEEP_SECONDS=1 EMAIL_RECIPIENT_HOURLY_CAP=1000 EMAIL_SENDER_HOURLY_CAP=1000 \
    AUTH_THROTTLE_RATE=1000/min REGISTER_THROTTLE_RATE=1000/hour HEALTH_DETAIL_TOKEN=delivery-story \
    EMAIL_VERIFY_URL="http://127.0.0.1:$web_port/auth/email/verify/?token={token}"
  .venv/bin/python manage.py migrate --noinput >/dev/null
  .venv/bin/python manage.py createcachetable
  start_gunicorn "$web_port" "$work/web.log"
  wait_http_ok "http://127.0.0.1:$web_port/healthz/" 60 "$GUNICORN_PID"
  local status=0
  .venv/bin/python stories/delivery/story.py --base-url "http://127.0.0.1:$web_port" --work "$work" \
    --smtp-port "$smtp_port" --health-token delivery-story || status=$?
  if grep -q '" 5[0-9][0-9] ' "$work/web.log"; then
    echo "delivery ($name): the server answered 5xx:" >&2
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
[ "${#runs[@]}" -gt 0 ] || runs=(sqlite postgres redis)
for run in "${runs[@]}"; do
  run_story "$run"
done
printf 'delivery: %s (%s s)\n' "${results[*]}" "$((SECONDS - started))"
exit "$failed"
