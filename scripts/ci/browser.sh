#!/usr/bin/env bash
# Browser tests in Debian's headless Chromium (driven by playwright-core, see stories/browser/):
# a static page on another origin calls the API (CORS, JWT with refresh, the day grid and heat map),
# the browsable API with a session, and the docs viewers offline. The page is TypeScript typed from
# the served schema: its types are generated from the live /schema/, it must pass `tsc --strict`
# with no escape hatches, and esbuild bundles it into page/app.js before the tests.
#
# Installs what it needs (chromium from Debian, stories/browser/ from the npm registry), starts a
# throwaway PostgreSQL (E2E_DATABASE=sqlite: a temporary SQLite file instead), gunicorn on a
# free 127.0.0.1 port and two static servers for the page (an allowed and a refused origin),
# runs the tests and stops everything it started. Set E2E_SCREENSHOTS=<dir> to keep the
# screenshots; E2E_KEEP=1 keeps the temporary folder (logs, database) for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/ci/serve_lib.sh
started=$SECONDS
chromium="${E2E_CHROMIUM:-/usr/bin/chromium}"

step() { echo "== browser: $*"; }
die() {
  echo "browser: $*" >&2
  exit 1
}

# --- what the tests need -------------------------------------------------------------
if [ ! -x "$chromium" ]; then
  [ "$(id -u)" = 0 ] || die "$chromium is missing; install Debian's chromium package (as root: apt-get install chromium)"
  step "installing chromium (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  if ! timeout 900 apt-get install -y -q chromium >/tmp/oneonone-apt.log 2>&1; then
    timeout 300 apt-get update -q >>/tmp/oneonone-apt.log 2>&1 || true
    timeout 900 apt-get install -y -q chromium >>/tmp/oneonone-apt.log 2>&1 ||
      { tail -n 30 /tmp/oneonone-apt.log >&2; die "could not install chromium"; }
  fi
fi
command -v node >/dev/null || die "node is missing (Node.js 20 or newer is needed for playwright-core)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "Node.js $(node --version) is too old; playwright-core needs 20 or newer"
command -v npm >/dev/null || die "npm is missing"

scripts/bootstrap.sh requirements.txt
step "npm ci in stories/browser/"
(cd stories/browser && timeout 300 npm ci --no-audit --no-fund --loglevel=error)

# --- servers ------------------------------------------------------------------------------
tmp="$(mktemp -d /tmp/oneonone-browser.XXXXXX)"
pids=()
PG_TMPDIR=""
cleanup() {
  local status=$?
  stop_pid "${pids[@]}"
  [ -n "$PG_TMPDIR" ] && scripts/pg-throwaway.sh stop "$PG_TMPDIR"
  if [ "${E2E_KEEP:-}" = 1 ]; then
    echo "browser: kept $tmp"
  else
    rm -rf "$tmp"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

show_logs() {
  for log in "$tmp"/gunicorn.log "$tmp"/page.log "$tmp"/other-page.log; do
    [ -s "$log" ] && { echo "--- $log (last 40 lines)"; tail -n 40 "$log"; }
  done
  return 0
}

wait_for() { # url pid name: until the URL answers 200, or fail with the logs
  wait_http_ok "$1" 30 "$2" || { show_logs >&2; die "$3 did not start"; }
}

if [ "${E2E_DATABASE:-postgres}" = sqlite ]; then
  export DATABASE_URL="sqlite:///$tmp/db.sqlite3"
else
  step "starting a throwaway PostgreSQL"
  start_pg
fi
read -r api_port page_port other_port <<<"$(free_ports 3)"

export DJANGO_SETTINGS_MODULE=oneonone.settings
export DJANGO_DEBUG=0
export DJANGO_SECRET_KEY="browser-tests-$(python3 -c 'import secrets; print(secrets.token_hex(24))')"
export JWT_SIGNING_KEY="jwt-$(python3 -c 'import secrets; print(secrets.token_hex(24))')"
export CORS_ALLOWED_ORIGINS="http://127.0.0.1:$page_port"
export AUTH_THROTTLE_RATE=1000/min REGISTER_THROTTLE_RATE=1000/min
# The docs are opened as docs.oneonone.test too, a name only the test browser maps to 127.0.0.1.
export DJANGO_ALLOWED_HOSTS=127.0.0.1,docs.oneonone.test
unset REDIS_URL CSRF_TRUSTED_ORIGINS

step "migrating ($(python3 -c 'import sys; print(sys.argv[1].split(":")[0])' "$DATABASE_URL"))"
.venv/bin/python manage.py migrate --noinput >"$tmp/migrate.log" 2>&1 || { cat "$tmp/migrate.log" >&2; die "migrate failed"; }
.venv/bin/python manage.py createcachetable

step "starting gunicorn on 127.0.0.1:$api_port and the page on ports $page_port (allowed) and $other_port (not allowed)"
.venv/bin/gunicorn oneonone.wsgi -c oneonone/gunicorn.conf.py --bind "127.0.0.1:$api_port" --workers 2 \
  --access-logfile "$tmp/access.log" --error-logfile "$tmp/gunicorn.log" &
pids+=("$!")
api_pid=$!
python3 -m http.server "$page_port" --bind 127.0.0.1 --directory stories/browser/page >"$tmp/page.log" 2>&1 &
pids+=("$!")
page_pid=$!
python3 -m http.server "$other_port" --bind 127.0.0.1 --directory stories/browser/page >"$tmp/other-page.log" 2>&1 &
pids+=("$!")
other_pid=$!
wait_for "http://127.0.0.1:$api_port/healthz/" "$api_pid" gunicorn
wait_for "http://127.0.0.1:$page_port/" "$page_pid" "the page server"
wait_for "http://127.0.0.1:$other_port/" "$other_pid" "the second page server"

# --- the page: types from the served schema, checked, then built ---------------------------------
step "generating the page's types from the live /schema/, tsc --strict, esbuild"
(
  cd stories/browser
  rm -rf generated page/app.js
  API="http://127.0.0.1:$api_port" timeout 120 npm run --silent generate >"$tmp/generate.log" 2>&1 ||
    { cat "$tmp/generate.log" >&2; exit 1; }
  if grep -qiE "warn|error" "$tmp/generate.log"; then
    cat "$tmp/generate.log" >&2
    exit 1
  fi
  timeout 120 npx --no-install tsc -p . --strict --noEmit
  node ../../scripts/ci/ts_escape_hatches.mjs page/app.ts
  timeout 60 npm run --silent build
) || die "the page does not compile against the served schema (see above)"

# --- tests ---------------------------------------------------------------------------------
export E2E_API_URL="http://127.0.0.1:$api_port"
export E2E_PAGE_URL="http://127.0.0.1:$page_port"
export E2E_OTHER_PAGE_URL="http://127.0.0.1:$other_port"
export E2E_JWT_SIGNING_KEY="$JWT_SIGNING_KEY"
export E2E_ACCESS_LOG="$tmp/access.log"
export E2E_SCREENSHOTS="${E2E_SCREENSHOTS:-$tmp/screenshots}"
export E2E_CHROMIUM="$chromium"

step "running the browser tests ($("$chromium" --version 2>/dev/null | head -n 1))"
tests_started=$SECONDS
status=0
(
  cd stories/browser && timeout 300 node --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tmp/results.tap" \
    tests/frontend.test.mjs tests/availability.test.mjs tests/browsable.test.mjs tests/etag.test.mjs
) || status=$?

passed="$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tmp/results.tap" 2>/dev/null | tail -n 1)"
failed="$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tmp/results.tap" 2>/dev/null | tail -n 1)"
if [ "$status" -ne 0 ]; then
  [ "$status" = 124 ] && echo "browser: the tests took longer than 300 s and were stopped" >&2
  show_logs >&2
fi
echo "browser: tests $((SECONDS - tests_started)) s, whole step $((SECONDS - started)) s; screenshots in $E2E_SCREENSHOTS"
echo "browser: ${passed:-0} passed, ${failed:-0} failed"
if [ "$status" -eq 0 ] && [ "${passed:-0}" -eq 0 ]; then
  die "no browser test ran"
fi
exit "$status"
