#!/usr/bin/env bash
# The generated-client story: generate a Python client from the schema a live server serves
# (openapi-python-client, pinned in stories/client/requirements.txt) and drive the whole story through
# it (stories/client/story.py). See docs/clients.md.
#
# Installs the generator into its own venv (.venv-client), starts a throwaway PostgreSQL
# (CLIENT_DATABASE=sqlite: a temporary SQLite file instead) and gunicorn on a free 127.0.0.1
# port, downloads /schema/?format=json, generates the client into a temporary folder (never
# into the tree), installs it into .venv-client, runs the story and stops everything it started.
# The generator must not warn, and the server must never answer 5xx. CLIENT_KEEP=1 keeps the
# temporary folder (schema, generated code, logs) for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"
. scripts/ci/serve_lib.sh
started=$SECONDS

step() { echo "== client: $*"; }
die() {
  echo "client: $*" >&2
  exit 1
}

# --- what it needs -------------------------------------------------------------------------
scripts/bootstrap.sh requirements.txt
if [ ! -x .venv-client/bin/python ]; then
  step "creating .venv-client"
  python3 -m venv .venv-client
fi
stamp=".venv-client/.installed-requirements.txt"
if [ ! -f "$stamp" ] || [ stories/client/requirements.txt -nt "$stamp" ]; then
  step "installing the generator (stories/client/requirements.txt)"
  timeout 300 .venv-client/bin/python -m pip install --quiet --disable-pip-version-check -r stories/client/requirements.txt
  touch "$stamp"
fi

# --- server ----------------------------------------------------------------------------------
tmp="$(mktemp -d /tmp/oneonone-client.XXXXXX)"
server_pid=""
PG_TMPDIR=""
cleanup() {
  local status=$?
  stop_pid "$server_pid"
  [ -n "$PG_TMPDIR" ] && scripts/pg-throwaway.sh stop "$PG_TMPDIR"
  if [ "${CLIENT_KEEP:-}" = 1 ]; then
    echo "client: kept $tmp"
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
export DJANGO_SECRET_KEY="client-story-$(python3 -c 'import secrets; print(secrets.token_hex(24))')"
export DJANGO_ALLOWED_HOSTS=127.0.0.1
export AUTH_THROTTLE_RATE=1000/min REGISTER_THROTTLE_RATE=1000/min
# The story registers a webhook on this host; allow-listed, it is neither resolved nor (no worker runs) called.
export WEBHOOK_ALLOWED_HOSTS=hooks.client-story.test
unset REDIS_URL JWT_SIGNING_KEY CORS_ALLOWED_ORIGINS CSRF_TRUSTED_ORIGINS

step "migrating ($(python3 -c 'import sys; print(sys.argv[1].split(":")[0])' "$DATABASE_URL"))"
.venv/bin/python manage.py migrate --noinput >"$tmp/migrate.log" 2>&1 || { cat "$tmp/migrate.log" >&2; die "migrate failed"; }
.venv/bin/python manage.py createcachetable

step "starting gunicorn on $base"
start_gunicorn "$port" "$tmp/gunicorn.out" --access-logfile "$tmp/access.log" --error-logfile "$tmp/gunicorn.log"
server_pid=$GUNICORN_PID
wait_http_ok "$base/healthz/" 30 "$server_pid" || { show_log >&2; die "gunicorn did not start"; }

# --- the client ------------------------------------------------------------------------------
step "downloading $base/schema/?format=json"
python3 - "$base/schema/?format=json" "$tmp/schema.json" <<'EOF'
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=30) as response:
    document = json.load(response)
with open(sys.argv[2], "w") as out:
    json.dump(document, out)
print(f"client: the schema has {len(document['paths'])} paths and {len(document['components']['schemas'])} components")
EOF
python3 stories/client/prepare_schema.py "$tmp/schema.json" "$tmp/client-schema.json"

step "generating the client ($(.venv-client/bin/openapi-python-client --version 2>/dev/null | head -n 1))"
# The generator formats its output with ruff, which it looks up on PATH.
if ! (cd "$tmp" && PATH="$root/.venv-client/bin:$PATH" timeout 120 openapi-python-client generate \
  --path "$tmp/client-schema.json" --config "$root/stories/client/config.yml" --meta setup \
  --output-path "$tmp/oneonone-client" >"$tmp/generate.log" 2>&1); then
  cat "$tmp/generate.log" >&2
  die "the generator failed"
fi
cat "$tmp/generate.log"
# A warning means part of the API could not be expressed in the client: a schema bug to fix.
if grep -v "^Generating " "$tmp/generate.log" | grep -qiE "warning|error|skipping|unsupported"; then
  die "the generator warned (see above): fix the schema at its source"
fi
timeout 120 .venv-client/bin/python -m pip install --quiet --disable-pip-version-check \
  --no-deps --no-build-isolation --force-reinstall "$tmp/oneonone-client" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log" >&2; die "installing the generated client failed"; }

step "running stories/client/story.py against $base"
story_started=$SECONDS
status=0
timeout 120 .venv-client/bin/python stories/client/story.py "$base" 2>&1 | tee "$tmp/story.log" || status=$?
[ "$status" = 124 ] && echo "client: the story took longer than 120 s and was stopped" >&2

# The API answers errors as 4xx; a 5xx in the access log is a bug even if the story did not notice.
server_errors="$(awk '$9 ~ /^5[0-9][0-9]$/' "$tmp/access.log" | head -n 5)"
if [ -n "$server_errors" ]; then
  echo "client: the server answered 5xx:" >&2
  echo "$server_errors" >&2
  status=1
fi
[ "$status" -ne 0 ] && show_log >&2

summary="$(grep -E '^client: [0-9]+ passed, [0-9]+ failed' "$tmp/story.log" | tail -n 1 || true)"
echo "client: story $((SECONDS - story_started)) s, whole step $((SECONDS - started)) s"
if [ -z "$summary" ]; then
  echo "client: 0 passed, 1 failed"
  die "the story printed no summary"
fi
echo "$summary"
exit "$status"
