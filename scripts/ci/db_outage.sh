#!/usr/bin/env bash
# The database goes away under a running server, then comes back: every request meanwhile is
# answered promptly with 503 and a JSON body (never a hung worker, a 500 or an HTML page), and
# the service recovers by itself, without a restart, when the database returns.
#
# Phase 1: `pg_ctl stop -m immediate` (a crash) under gunicorn with persistent connections, probes
#          of /healthz/, JWT-authenticated reads and writes, login (throttle counters in the database
#          cache) and a non-DRF view with a session cookie; then a restart of the cluster and recovery.
# Phase 2: a frozen database (postmaster stopped with SIGSTOP: connections are accepted and never
#          answered) with a fresh connection per request: 503 after the connect timeout, not a hang.
# Everything on 127.0.0.1, bounded (about a minute), summary at the end, non-zero exit on failure.
#
# Usage: scripts/ci/db_outage.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/ci/serve_lib.sh
started=$SECONDS

scripts/bootstrap.sh requirements.txt
work="$(mktemp -d /tmp/oneonone-outage.XXXXXX)"
GUNICORN_PID=""
PG_TMPDIR=""
postmaster=""
cleanup() {
  if [ -n "$postmaster" ]; then kill -CONT "$postmaster" 2>/dev/null || true; fi
  stop_pid "$GUNICORN_PID"
  if [ -n "$PG_TMPDIR" ]; then scripts/pg-throwaway.sh stop "$PG_TMPDIR"; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pgbin="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

unset REDIS_URL
# Durable commits: a crash must not lose what was answered 201 before it.
start_pg PG_DURABLE=1
export DATABASE_URL DJANGO_SETTINGS_MODULE=oneonone.settings DJANGO_DEBUG=0 GUNICORN_TIMEOUT=30
.venv/bin/python manage.py migrate --noinput >/dev/null
.venv/bin/python manage.py createcachetable
.venv/bin/python manage.py shell -c "
from django.contrib.auth import get_user_model
get_user_model().objects.create_user(username='outage', password='0utage-c0rrect-h0rse')
" >/dev/null

pg_start() {
  as_postgres "$pgbin/pg_ctl" -D "$PG_TMPDIR/data" -l "$PG_TMPDIR/log" -w \
    -o "-h 127.0.0.1 -p $PG_PORT -k $PG_TMPDIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null
}
pg_crash() {
  as_postgres "$pgbin/pg_ctl" -D "$PG_TMPDIR/data" -m immediate stop >/dev/null
}

failures=0
checks=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# probe NAME EXPECTED_STATUS MAX_SECONDS curl-args...: one request, its status, JSON body and time.
probe() {
  local name="$1" expected="$2" limit="$3"
  shift 3
  checks=$((checks + 1))
  local out="$work/body" began=$SECONDS status ctype
  status="$(curl -s -o "$out" -D "$work/headers" -w '%{http_code} %{content_type}' --max-time 40 "$@" || true)"
  local took=$((SECONDS - began))
  ctype="${status#* }"
  status="${status%% *}"
  local body
  body="$(head -c 200 "$out" 2>/dev/null | tr -d '\n')"
  printf '  %-44s %s in %ss  %s\n' "$name" "$status" "$took" "$body"
  if [ "$status" != "$expected" ]; then
    fail "$name: status $status, expected $expected"
  elif [ "$took" -gt "$limit" ]; then
    fail "$name: took ${took}s, more than ${limit}s"
  elif [ "$expected" != 200 ] && [ "$expected" != 201 ] && ! [[ "$ctype" == application/json* ]]; then
    fail "$name: content type '$ctype', expected JSON"
  elif [ "$expected" = 503 ] && ! grep -q '"detail"' "$out"; then
    fail "$name: no JSON detail in the body"
  elif [ "$expected" = 503 ] && ! grep -qi '^retry-after: ' "$work/headers"; then
    fail "$name: no Retry-After header"
  fi
}

login() {
  curl -sf --max-time 10 -X POST "$base/auth/login/" -H 'Content-Type: application/json' \
    -d '{"username": "outage", "password": "0utage-c0rrect-h0rse"}' |
    .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["access"])'
}

serve() {
  port="$(free_port)"
  base="http://127.0.0.1:$port"
  start_gunicorn "$port" "$work/gunicorn-$1.log"
  wait_http "$base/healthz/" 30 "$GUNICORN_PID"
}

# Days a month ahead: a calendar's dates must lie from a year back to ten years ahead of today.
day1="$(date -u -d '+30 days' +%F)" day2="$(date -u -d '+31 days' +%F)" day3="$(date -u -d '+32 days' +%F)"
auth=()
requests_while_down() {
  probe "GET /healthz/" 503 10 "$base/healthz/"
  probe "GET /calendars/ (JWT)" 503 10 "${auth[@]}" "$base/calendars/"
  probe "POST /calendars/ (JWT)" 503 10 "${auth[@]}" -X POST -H 'Content-Type: application/json' \
    -d '{"title": "During the outage", "days": [{"date": "'"$day2"'", "ranking": 1}]}' "$base/calendars/"
  probe "POST /auth/login/ (throttle in db cache)" 503 10 -X POST -H 'Content-Type: application/json' \
    -d '{"username": "outage", "password": "wrong-password"}' "$base/auth/login/"
  probe "GET /admin/ (non-DRF, session cookie)" 503 10 -H 'Cookie: sessionid=abcdefghijklmnopqrstuvwxyz012345' \
    "$base/admin/"
  probe "GET /no-such-page/ (no database needed)" 404 10 "$base/no-such-page/"
}

echo "== phase 1: the database crashes (pg_ctl stop -m immediate) and comes back"
export DATABASE_CONN_MAX_AGE=60
serve crash
token="$(login)"
auth=(-H "Authorization: Bearer $token")
probe "before: GET /calendars/ (JWT)" 200 5 "${auth[@]}" "$base/calendars/"
probe "before: POST /calendars/ (JWT)" 201 5 "${auth[@]}" -X POST -H 'Content-Type: application/json' \
  -d '{"title": "Before the outage", "days": [{"date": "'"$day1"'", "ranking": 1}]}' "$base/calendars/"
# Both workers hold a connection now.
for _ in 1 2 3 4 5 6; do curl -s -o /dev/null "${auth[@]}" "$base/calendars/"; done

pg_crash
echo "  (database stopped)"
requests_while_down
requests_while_down  # each worker twice: no connection state left broken

pg_start
echo "  (database started again; no restart of gunicorn)"
wait_http_ok "$base/healthz/" 30 "$GUNICORN_PID" || fail "healthz did not come back within 30 s"
for n in 1 2 3 4; do
  probe "after ($n): GET /calendars/ (JWT)" 200 5 "${auth[@]}" "$base/calendars/"
done
probe "after: POST /calendars/ (JWT)" 201 5 "${auth[@]}" -X POST -H 'Content-Type: application/json' \
  -d '{"title": "After the outage", "days": [{"date": "'"$day3"'", "ranking": 1}]}' "$base/calendars/"
titles="$(curl -s "${auth[@]}" "$base/calendars/" | .venv/bin/python -c \
  'import json, sys; print(",".join(sorted(c["title"] for c in json.load(sys.stdin)["results"])))')"
checks=$((checks + 1))
echo "  calendars after recovery: $titles"
[ "$titles" = "After the outage,Before the outage" ] || fail "calendars after recovery: $titles"
if grep -q -E 'WORKER TIMEOUT|Booting worker' <(sed -n '/database stopped/,$p' "$work/gunicorn-crash.log"); then
  fail "a gunicorn worker hung or was restarted during the outage"
fi
stop_pid "$GUNICORN_PID"
GUNICORN_PID=""

echo "== phase 2: the database freezes (postmaster stopped with SIGSTOP), a new connection per request"
export DATABASE_CONN_MAX_AGE=0
serve frozen
token="$(login)"
auth=(-H "Authorization: Bearer $token")
postmaster="$(head -n 1 "$PG_TMPDIR/data/postmaster.pid")"
kill -STOP "$postmaster"
echo "  (postmaster $postmaster frozen)"
probe "GET /healthz/" 503 15 "$base/healthz/"
probe "GET /calendars/ (JWT)" 503 15 "${auth[@]}" "$base/calendars/"
kill -CONT "$postmaster"
postmaster=""
echo "  (postmaster running again)"
probe "after: GET /calendars/ (JWT)" 200 10 "${auth[@]}" "$base/calendars/"

# The access log: no 500 at all, no worker killed for hanging (phase 1 checked no restart).
checks=$((checks + 1))
if grep -h -E 'HTTP/1\.[01]" 500 ' "$work"/gunicorn-*.log; then
  fail "a request was answered 500"
fi
if grep -q 'WORKER TIMEOUT' "$work"/gunicorn-*.log; then
  fail "a gunicorn worker hung until its timeout"
fi
echo "-- database errors logged (each answered 503):"
grep -h -o -E '^(django\.db\.utils|psycopg)\.[A-Za-z]+Error: [^:]*' "$work"/gunicorn-*.log | sort | uniq -c | head -n 10 || true

echo "db_outage: $checks checks, $failures failed, $((SECONDS - started)) s"
echo "db_outage: $((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
