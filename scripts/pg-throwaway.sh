#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster in a temporary folder, as the postgres user,
# on a free port on 127.0.0.1. Prints `export DATABASE_URL=...` and `export PG_TMPDIR=...`.
# Stop it with: scripts/pg-throwaway.sh stop "$PG_TMPDIR"
set -euo pipefail
pgbin="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  echo "PostgreSQL server binaries not found (install Debian's postgresql package)" >&2
  exit 1
fi
run_as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
if [ "${1:-}" = "stop" ]; then
  dir="${2:?folder}"
  run_as_pg "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  exit 0
fi
# Fast and not durable by default (tests); PG_DURABLE=1 keeps every commit across a crash
# (pg_ctl stop -m immediate), which the database-outage test relies on.
speed="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
[ "${PG_DURABLE:-}" = 1 ] && speed=""
dir="$(mktemp -d /tmp/oneonone-pg.XXXXXX)"
chmod 755 "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
run_as_pg "$pgbin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >/dev/null
run_as_pg "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-h 127.0.0.1 -p $port -k $dir $speed -c max_connections=200" \
  start >/dev/null
run_as_pg "$pgbin/psql" -h 127.0.0.1 -p "$port" -U postgres -q \
  -c "CREATE ROLE oneonone LOGIN CREATEDB PASSWORD 'oneonone'" \
  -c "CREATE DATABASE oneonone OWNER oneonone" >/dev/null
echo "export DATABASE_URL=postgres://oneonone:oneonone@127.0.0.1:$port/oneonone"
echo "export PG_TMPDIR=$dir"
echo "export PG_PORT=$port"
