#!/usr/bin/env bash
# Fuzz the served API from its own OpenAPI schema with schemathesis (requirements-fuzz.txt,
# installed into .venv-fuzz so it never touches the application's dependencies).
#
# Starts gunicorn on 127.0.0.1 on a throwaway PostgreSQL (FUZZ_DATABASE=postgres, the default) or a
# fresh SQLite file (FUZZ_DATABASE=sqlite: WAL, BEGIN IMMEDIATE, as scripts/serve.sh runs it), seeds
# users, friends, calendars and invitations (stories/fuzz/seed.py) so generated ids reach real objects,
# logs in for a real JWT, then runs every operation through the examples, coverage, fuzzing and
# stateful phases with one worker. Zero failures or the step fails (a 5xx is a failure: a 503
# "database is locked" on SQLite too). Bounded: FUZZ_MAX_EXAMPLES test cases per operation and phase
# (default 30) and FUZZ_MAX_TIME seconds for schemathesis (default 300); the whole step takes about
# 6 minutes on 2 cores. scripts/test.sh runs it once per database, 240 s each.
#
# Usage: [FUZZ_DATABASE=sqlite] scripts/ci/fuzz.sh [extra `schemathesis run` arguments]
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/ci/serve_lib.sh

max_examples="${FUZZ_MAX_EXAMPLES:-30}"
max_time="${FUZZ_MAX_TIME:-300}"
database="${FUZZ_DATABASE:-postgres}"
case "$database" in
postgres | sqlite) ;;
*)
  echo "fuzz: FUZZ_DATABASE must be postgres or sqlite, not $database" >&2
  exit 2
  ;;
esac
started=$SECONDS

scripts/bootstrap.sh requirements.txt
if [ ! -x .venv-fuzz/bin/schemathesis ] || [ requirements-fuzz.txt -nt .venv-fuzz/.installed ]; then
  "${PYTHON:-python3}" -m venv .venv-fuzz
  .venv-fuzz/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-fuzz.txt
  touch .venv-fuzz/.installed
fi

work="$(mktemp -d /tmp/oneonone-fuzz.XXXXXX)"
GUNICORN_PID=""
PG_TMPDIR=""
cleanup() {
  stop_pid "$GUNICORN_PID"
  if [ -n "$PG_TMPDIR" ]; then scripts/pg-throwaway.sh stop "$PG_TMPDIR"; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

unset REDIS_URL
if [ "$database" = sqlite ]; then
  DATABASE_URL="sqlite:///$work/fuzz.sqlite3"
else
  start_pg
fi
export DATABASE_URL
export DJANGO_SETTINGS_MODULE=oneonone.settings DJANGO_DEBUG=0 DJANGO_LOG_LEVEL=WARNING
# The fuzzer logs in once and registers many users: keep it clear of the throttles.
export AUTH_THROTTLE_RATE=100000/min REGISTER_THROTTLE_RATE=100000/min JWT_ACCESS_MINUTES=60
export FEED_TOKEN_THROTTLE_RATE=100000/min FEED_ADDRESS_THROTTLE_RATE=100000/min
export GUNICORN_TIMEOUT=60
# The host of the schema's webhook example and of the seeded webhooks, so registrations can succeed without
# a name lookup; no worker runs here, so no webhook is ever sent.
export WEBHOOK_ALLOWED_HOSTS=hooks.example.com

.venv/bin/python manage.py migrate --noinput >/dev/null
.venv/bin/python manage.py createcachetable
.venv/bin/python stories/fuzz/seed.py >"$work/ids.json"

port="$(free_port)"
base="http://127.0.0.1:$port"
start_gunicorn "$port" "$work/gunicorn.log"
wait_http_ok "$base/healthz/" 30 "$GUNICORN_PID"

# A real token from the login endpoint; access tokens are never blacklisted, so nothing the
# fuzzer sends to /auth/logout/ can revoke it.
token="$(curl -sf -X POST "$base/auth/login/" -H 'Content-Type: application/json' \
  -d '{"username": "fuzzer", "password": "fuzz-c0rrect-h0rse"}' |
  .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["access"])')"

.venv/bin/python stories/fuzz/config.py "$work/ids.json" >"$work/schemathesis.toml"
curl -sf "$base/schema/?format=json" -o "$work/schema.json"
# The hook's excusal against every spelling of a finding seen so far (seconds, before minutes of fuzzing).
FUZZ_IDS_FILE="$work/ids.json" FUZZ_SCHEMA_FILE="$work/schema.json" PYTHONPATH=stories/fuzz \
  .venv-fuzz/bin/python stories/fuzz/check_hooks.py

set +e
FUZZ_IDS_FILE="$work/ids.json" FUZZ_SCHEMA_FILE="$work/schema.json" FUZZ_BASE_URL="$base" FUZZ_TOKEN="$token" \
  SCHEMATHESIS_HOOKS=stories/fuzz/hooks.py \
  timeout --kill-after=10 "$((max_time + 90))" .venv-fuzz/bin/schemathesis --config-file "$work/schemathesis.toml" \
  run "$base/schema/" \
  --header "Authorization: Bearer $token" \
  --max-examples "$max_examples" \
  --max-time "$max_time" \
  --workers 1 \
  --seed "${FUZZ_SEED:-20307}" \
  --request-timeout 30 \
  --generation-database none \
  --no-color \
  "$@" >"$work/schemathesis.out" 2>&1
status=$?
set -e
# schemathesis masks the token in its report; very long reproduction commands are cut.
cut -c1-1000 "$work/schemathesis.out"

if grep -q -E 'Traceback|\[CRITICAL\]|WORKER TIMEOUT' "$work/gunicorn.log"; then
  echo "gunicorn logged errors:" >&2
  grep -n -E -A 30 'Traceback|\[CRITICAL\]|WORKER TIMEOUT' "$work/gunicorn.log" | head -n 120 >&2
  [ "$status" -eq 0 ] && status=1
fi

echo "== responses served, by operation and status (from gunicorn's access log)"
.venv/bin/python stories/fuzz/config.py --summarize "$work/gunicorn.log"

echo "== seeded objects left at the end (the fuzzer deletes and changes what it can)"
.venv/bin/python manage.py shell -v 0 -c "
import json
from calendars.models import Calendar
from calendars.models import Invitation
ids = json.load(open('$work/ids.json'))
print('  protected calendars left:', Calendar.objects.filter(pk__in=ids['protected_calendars']).count(), 'of', len(ids['protected_calendars']))
print('  seeded invitations left:', Invitation.objects.filter(pk__in=ids['invitations']).count(), 'of', len(ids['invitations']))
" 2>/dev/null || true

operations="$(grep -o -E 'Tested: [0-9]+' "$work/schemathesis.out" | grep -o -E '[0-9]+' || echo '?')"
cases="$(grep -o -E '[0-9]+ generated' "$work/schemathesis.out" | grep -o -E '[0-9]+' || echo '?')"
echo "fuzz ($database): $operations operations, $cases test cases, $((SECONDS - started)) s, schemathesis exit $status"
if [ "$status" -eq 0 ]; then
  echo "fuzz: 1 passed, 0 failed"
else
  echo "fuzz: 0 passed, 1 failed"
fi
exit "$status"
