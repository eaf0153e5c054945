#!/usr/bin/env bash
# Scale-out test, on 127.0.0.1 only: PostgreSQL, Redis, two gunicorn servers and nginx in front
# (deploy/nginx.conf with the upstreams rewritten to free ports), all started here and stopped at
# the end. stories/scale_out/story.py then runs the whole user story through nginx under a steady load, kills
# the first app server (SIGKILL to its process group) between two steps and checks: every request
# after the kill is answered by the other server, login throttling counts across both servers (the
# counter is in Redis), no POST is applied twice and PostgreSQL holds exactly what the clients were
# told. Installs what it needs on a fresh Debian machine (redis-server, nginx, postgresql).
#
# Usage: scripts/ci/scale_out.sh
#   SCALE_OUT_REPORT=path   keep the figures as JSON
#   SCALE_OUT_PGBOUNCER=1   the app servers reach PostgreSQL through PgBouncer (transaction pooling)
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$SECONDS

AUTH_RATE=10

# --- what the machine needs -------------------------------------------------------------------------------------

apt_install() {
  # Debian starts a package's daemon on install; none is wanted here (each test starts its own).
  local guard="" status=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    guard=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1; then
    apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "$@" >/dev/null || status=$?
  fi
  if [ -n "$guard" ]; then
    rm -f /usr/sbin/policy-rc.d
  fi
  return "$status"
}

PGBOUNCER="${SCALE_OUT_PGBOUNCER:-0}"
missing=()
if [ "$PGBOUNCER" = 1 ] && ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then
  missing+=(pgbouncer)
fi
command -v redis-server >/dev/null || missing+=(redis-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v psql >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== installing ${missing[*]}"
  apt_install "${missing[@]}"
fi
export PATH="$PATH:/usr/sbin"

scripts/bootstrap.sh requirements.txt
# Django's Redis cache needs the redis client: pinned in requirements.txt, installed here if missing.
.venv/bin/python -c 'import redis' 2>/dev/null ||
  .venv/bin/python -m pip install --quiet --disable-pip-version-check 'redis==8.1.0'

# --- helpers ------------------------------------------------------------------------------------------------------

# free_ports, wait_http_ok, stop_pid and stop_group are shared with the other CI steps.
. scripts/ci/serve_lib.sh

work="$(mktemp -d /tmp/oneonone-scale.XXXXXX)"
# nginx's workers (user nobody) write their buffer files below it.
chmod 755 "$work"
PG_TMPDIR="" REDIS_PID="" WEB1="" WEB2="" NGINX_PID="" PGBOUNCER_PID=""
cleanup() {
  local status=$?
  stop_pid "$NGINX_PID"
  stop_group "$WEB1" "$WEB2"
  stop_pid "$REDIS_PID" "$PGBOUNCER_PID"
  [ -n "$PG_TMPDIR" ] && scripts/pg-throwaway.sh stop "$PG_TMPDIR"
  if [ "$status" != 0 ]; then
    for log in web1.log web2.log nginx/error.log redis.log pgbouncer/pgbouncer.log; do
      [ -f "$work/$log" ] && { echo "--- last lines of $log"; tail -n 30 "$work/$log"; }
    done
  fi
  rm -rf "$work"
  return "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- PostgreSQL, Redis, migrations --------------------------------------------------------------------------------

start_pg
read -r redis_port bouncer_port p1 p2 pn <<<"$(free_ports 5)"
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --dir "$work" \
  --logfile "$work/redis.log" --daemonize no &
REDIS_PID=$!
for _ in $(seq 50); do
  [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ] && break
  sleep 0.1
done
[ "$(redis-cli -p "$redis_port" ping)" = PONG ]

export DATABASE_URL REDIS_URL="redis://127.0.0.1:$redis_port/0"
export DJANGO_SETTINGS_MODULE=oneonone.settings DJANGO_DEBUG=0
# One shared key: a token signed by one server is checked by the other.
export DJANGO_SECRET_KEY="scale-out-test-key-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
export NUM_PROXIES=1
# The story logs in 4 times and registers 4 users from 127.0.0.1; the brute-force client has its own address.
export AUTH_THROTTLE_RATE="$AUTH_RATE/min" REGISTER_THROTTLE_RATE=30/min
export GUNICORN_WORKERS=2 GUNICORN_TIMEOUT=30 GUNICORN_ACCESS_LOG=-
.venv/bin/python manage.py migrate --noinput >/dev/null
.venv/bin/python manage.py createcachetable # a no-op with REDIS_URL; the release step of docker-compose.yml

# With SCALE_OUT_PGBOUNCER=1 the app servers reach PostgreSQL through PgBouncer in transaction
# pooling mode (docs/deploy.md); migrations and the final counts go straight to PostgreSQL.
APP_DATABASE_URL="$DATABASE_URL"
if [ "$PGBOUNCER" = 1 ]; then
  mkdir -p "$work/pgbouncer"
  cat >"$work/pgbouncer/pgbouncer.ini" <<INI
[databases]
oneonone = host=127.0.0.1 port=$PG_PORT dbname=oneonone user=oneonone password=oneonone
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = 5
max_client_conn = 200
logfile = $work/pgbouncer/pgbouncer.log
pidfile = $work/pgbouncer/pgbouncer.pid
INI
  # PgBouncer refuses to run as root.
  chown -R postgres "$work/pgbouncer"
  runuser -u postgres -- "$(command -v pgbouncer || echo /usr/sbin/pgbouncer)" -d -q "$work/pgbouncer/pgbouncer.ini"
  for _ in $(seq 50); do
    [ -s "$work/pgbouncer/pgbouncer.pid" ] && break
    sleep 0.1
  done
  PGBOUNCER_PID="$(cat "$work/pgbouncer/pgbouncer.pid")"
  APP_DATABASE_URL="postgres://oneonone:oneonone@127.0.0.1:$bouncer_port/oneonone"
  psql "$APP_DATABASE_URL" -XAtc 'SELECT 1' >/dev/null
fi

# --- two app servers and nginx ------------------------------------------------------------------------------------

# Each server in its own session, so one signal reaches the master and its workers: kill -9 of the
# process group is a machine going away, with no graceful shutdown.
DATABASE_URL="$APP_DATABASE_URL" setsid .venv/bin/gunicorn oneonone.wsgi -c oneonone/gunicorn.conf.py \
  --bind "127.0.0.1:$p1" >"$work/web1.log" 2>&1 &
WEB1=$!
DATABASE_URL="$APP_DATABASE_URL" setsid .venv/bin/gunicorn oneonone.wsgi -c oneonone/gunicorn.conf.py \
  --bind "127.0.0.1:$p2" >"$work/web2.log" 2>&1 &
WEB2=$!
# The story kills the first one: the shell need not report it.
disown "$WEB1" "$WEB2"

mkdir -p "$work/nginx"
conf="$work/nginx/nginx.conf"
sed -e "s|server web1:8000 |server 127.0.0.1:$p1 |" \
  -e "s|server web2:8000 |server 127.0.0.1:$p2 |" \
  -e "s|listen 8080;|listen 127.0.0.1:$pn;|" \
  -e "/^http {/a\\
    # Added by scripts/ci/scale_out.sh: which server answered, and private temp paths.\\
    add_header X-Upstream \$upstream_addr always;\\
    add_header X-Upstream-Status \$upstream_status always;\\
    client_body_temp_path $work/nginx/body;\\
    proxy_temp_path $work/nginx/proxy;\\
    fastcgi_temp_path $work/nginx/fastcgi;\\
    uwsgi_temp_path $work/nginx/uwsgi;\\
    scgi_temp_path $work/nginx/scgi;" \
  deploy/nginx.conf >"$conf"
for expected in "server 127.0.0.1:$p1 " "server 127.0.0.1:$p2 " "listen 127.0.0.1:$pn;" "X-Upstream "; do
  grep -q "$expected" "$conf" || { echo "rendering deploy/nginx.conf failed: no '$expected'" >&2; exit 1; }
done
nginx_args=(-p "$work/nginx/" -e "$work/nginx/error.log" -c "$conf" -g "pid $work/nginx/nginx.pid; daemon off;")
nginx -t -q "${nginx_args[@]}"
nginx "${nginx_args[@]}" >"$work/nginx/access.log" 2>>"$work/nginx/error.log" &
NGINX_PID=$!

wait_http_ok "http://127.0.0.1:$p1/healthz/" 30 "$WEB1"
wait_http_ok "http://127.0.0.1:$p2/healthz/" 30 "$WEB2"
wait_http_ok "http://127.0.0.1:$pn/healthz/" 15 "$NGINX_PID"
[ "$(ps -o pgid= -p "$WEB1" | tr -d ' ')" = "$WEB1" ] || { echo "gunicorn is not its own process group" >&2; exit 1; }
echo "== PostgreSQL ${DATABASE_URL##*@}$([ "$PGBOUNCER" = 1 ] && echo " behind PgBouncer (transaction pooling) ${APP_DATABASE_URL##*@}"), Redis 127.0.0.1:$redis_port, app servers 127.0.0.1:$p1 and 127.0.0.1:$p2, nginx 127.0.0.1:$pn (up after $((SECONDS - started)) s)"

# --- the story under load, one server killed ----------------------------------------------------------------------

report="${SCALE_OUT_REPORT:-$work/report.json}"
timeout 180 .venv/bin/python stories/scale_out/story.py --port "$pn" --servers "127.0.0.1:$p1,127.0.0.1:$p2" \
  --kill-pgid "$WEB1" --auth-rate "$AUTH_RATE" --database-url "$DATABASE_URL" --report "$report"
WEB1="" # killed by the story

# The login throttle's counter is in Redis (the database cache table is not even created).
key=":1:throttle_auth_127.0.0.2"
[ "$(redis-cli -p "$redis_port" exists "$key")" = 1 ] || { echo "no $key in Redis" >&2; exit 1; }
cache_table="$(psql "$DATABASE_URL" -XAtc "SELECT to_regclass('oneonone_cache') IS NOT NULL")"
[ "$cache_table" = f ] || { echo "the database cache table exists: throttles did not use Redis" >&2; exit 1; }
echo "Redis holds the login throttle counters: $(redis-cli -p "$redis_port" --scan --pattern '*throttle*' | sort | tr '\n' ' ')"
echo "gunicorn access log lines: server 1 (killed) $(grep -c '" [0-9][0-9][0-9] ' "$work/web1.log" || true)," \
  "server 2 $(grep -c '" [0-9][0-9][0-9] ' "$work/web2.log" || true)"
echo "nginx: $(wc -l <"$work/nginx/access.log") requests logged, $(grep -c 'upstream=.*, ' "$work/nginx/access.log" || true) moved to the other server"

stop_pid "$NGINX_PID"
NGINX_PID=""
echo "scale-out: passed in $((SECONDS - started)) s"
