#!/usr/bin/env bash
# The HTTP benchmark in one command (see docs/performance.md): sets up .venv and wrk, starts a
# throwaway PostgreSQL, loads the data set, serves it with gunicorn, drives every endpoint with
# wrk and prints the table. Everything listens on 127.0.0.1 and is stopped at the end.
# Usage: bench/run.sh                 (full scale, about 8 minutes)
#        BENCH_SCALE=0.1 BENCH_RUNS=1 BENCH_DURATION=3 bench/run.sh   (smoke run, about 1 minute)
#        BENCH_EXPLAIN=1 bench/run.sh  (then EXPLAIN ANALYZE of the user search with and without its
#                                       trigram index on the loaded data: bench/explain_search.py)
#        BENCH_PROFILE=1 bench/run.sh  (then CPU and wall ms of one request at a time, in-process, on the
#                                       loaded data: bench/profile_reads.py --repeat 50 --login)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements.txt
if ! command -v wrk >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq wrk >/dev/null
fi
for tool in wrk taskset; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is missing" >&2; exit 1; }
done
. scripts/ci/serve_lib.sh
PG_TMPDIR=""
stop() { [ -z "$PG_TMPDIR" ] || scripts/pg-throwaway.sh stop "$PG_TMPDIR"; }
trap stop EXIT
start_pg
trap 'exit 130' INT TERM
export DATABASE_URL PG_TMPDIR DJANGO_SETTINGS_MODULE=bench.settings
.venv/bin/python bench/run.py
if [ "${BENCH_EXPLAIN:-}" = 1 ]; then
  .venv/bin/python bench/explain_search.py
fi
if [ "${BENCH_PROFILE:-}" = 1 ]; then
  .venv/bin/python bench/profile_reads.py --repeat 50 --login
fi
