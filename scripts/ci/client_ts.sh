#!/usr/bin/env bash
# The TypeScript client story: what a single-page frontend does with the schema. Types generated from the
# /schema/ a live gunicorn serves (openapi-typescript, pinned in stories/client-ts/package.json with its lock),
# checked with `tsc --strict` and for escape hatches (`any`, casts, `!`), then the story run with Node through
# openapi-fetch (stories/client-ts/src/story.ts). See docs/clients.md.
#
# Installs stories/client-ts/ from the npm registry (`npm ci`), starts a throwaway PostgreSQL
# (CLIENT_DATABASE=sqlite: a temporary SQLite file instead) and gunicorn on a free 127.0.0.1 port, generates
# the types into stories/client-ts/src/generated/ (not committed), compiles into stories/client-ts/build/,
# runs the story and stops everything it started. Logins are throttled at a few a second here, so the story
# meets a real 429. The server must never answer 5xx. CLIENT_KEEP=1 keeps the temporary folder (logs).
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"
. scripts/ci/serve_lib.sh
started=$SECONDS
story_dir="$root/stories/client-ts"

step() { echo "== client-ts: $*"; }
die() {
  echo "client-ts: $*" >&2
  exit 1
}

# --- what it needs -------------------------------------------------------------------------
command -v node >/dev/null || die "node is missing (Node.js 20 or newer)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "Node.js $(node --version) is too old; 20 or newer is needed"
command -v npm >/dev/null || die "npm is missing"
scripts/bootstrap.sh requirements.txt
step "npm ci in stories/client-ts/"
(cd "$story_dir" && timeout 300 npm ci --no-audit --no-fund --loglevel=error)

# --- server ----------------------------------------------------------------------------------
tmp="$(mktemp -d /tmp/oneonone-client-ts.XXXXXX)"
server_pid=""
PG_TMPDIR=""
cleanup() {
  local status=$?
  stop_pid "$server_pid"
  [ -n "$PG_TMPDIR" ] && scripts/pg-throwaway.sh stop "$PG_TMPDIR"
  if [ "${CLIENT_KEEP:-}" = 1 ]; then
    echo "client-ts: kept $tmp"
  else
    rm -rf "$tmp"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

show_log() {
  [ -s "$tmp/gunicorn.log" ] && { echo "--- gunicorn log (last 40 lines)"; tail -n 40 "$tmp/gunicorn.log"; }
  return 0
}

if [ "${CLIENT_DATABASE:-postgres}" = sqlite ]; then
  export DATABASE_URL="sqlite:///$tmp/db.sqlite3"
else
  step "starting a throwaway PostgreSQL"
  start_pg
fi
port="$(free_port)"
base="http://127.0.0.1:$port"

export DJANGO_SETTINGS_MODULE=oneonone.settings
export DJANGO_DEBUG=0
export DJANGO_SECRET_KEY="client-ts-story-$(python3 -c 'import secrets; print(secrets.token_hex(24))')"
export JWT_SIGNING_KEY="jwt-$(python3 -c 'import secrets; print(secrets.token_hex(24))')"
export DJANGO_ALLOWED_HOSTS=127.0.0.1
# A few logins a second: the story's burst meets a 429 with `Retry-After: 1` and waits it out.
export AUTH_THROTTLE_RATE=5/s REGISTER_THROTTLE_RATE=1000/min
unset REDIS_URL CORS_ALLOWED_ORIGINS CSRF_TRUSTED_ORIGINS

step "migrating ($(python3 -c 'import sys; print(sys.argv[1].split(":")[0])' "$DATABASE_URL"))"
.venv/bin/python manage.py migrate --noinput >"$tmp/migrate.log" 2>&1 || { cat "$tmp/migrate.log" >&2; die "migrate failed"; }
.venv/bin/python manage.py createcachetable

step "starting gunicorn on $base"
start_gunicorn "$port" "$tmp/gunicorn.out" --access-logfile "$tmp/access.log" --error-logfile "$tmp/gunicorn.log"
server_pid=$GUNICORN_PID
wait_http_ok "$base/healthz/" 30 "$server_pid" || { show_log >&2; die "gunicorn did not start"; }

# --- the client: generate, check, call -------------------------------------------------------
cd "$story_dir"
step "generating the types from $base/schema/ ($(npx --no-install openapi-typescript --version 2>/dev/null | tail -n 1))"
rm -rf src/generated build
if ! API="$base" timeout 120 npm run --silent generate >"$tmp/generate.log" 2>&1; then
  cat "$tmp/generate.log" >&2
  die "openapi-typescript failed"
fi
cat "$tmp/generate.log"
# A warning means part of the schema could not be expressed in TypeScript: a schema bug to fix at its source.
if grep -qiE "warn|error" "$tmp/generate.log"; then
  die "openapi-typescript warned (see above)"
fi

step "tsc --strict ($(npx --no-install tsc --version)), then no escape hatches (any, casts, non-null assertions)"
timeout 120 npx --no-install tsc -p . --strict || die "the story does not compile against the served schema"
node "$root/scripts/ci/ts_escape_hatches.mjs" src/*.ts || die "the story opts out of its types"

step "running the story against $base"
story_started=$SECONDS
status=0
STORY_JWT_SIGNING_KEY="$JWT_SIGNING_KEY" timeout 120 node build/story.js "$base" 2>&1 | tee "$tmp/story.log" || status=$?
[ "$status" = 124 ] && echo "client-ts: the story took longer than 120 s and was stopped" >&2
cd "$root"

# The API answers errors as 4xx; a 5xx in the access log is a bug even if the story did not notice.
server_errors="$(awk '$9 ~ /^5[0-9][0-9]$/' "$tmp/access.log" | head -n 5)"
if [ -n "$server_errors" ]; then
  echo "client-ts: the server answered 5xx:" >&2
  echo "$server_errors" >&2
  status=1
fi
[ "$status" -ne 0 ] && show_log >&2

summary="$(grep -E '^client-ts: [0-9]+ passed, [0-9]+ failed' "$tmp/story.log" | tail -n 1 || true)"
echo "client-ts: story $((SECONDS - story_started)) s, whole step $((SECONDS - started)) s"
if [ -z "$summary" ]; then
  echo "client-ts: 0 passed, 1 failed"
  die "the story printed no summary"
fi
echo "$summary"
exit "$status"
