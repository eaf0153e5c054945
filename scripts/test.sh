#!/usr/bin/env bash
# Set everything up and run every stage: lint, types, migrations, schema validation, the tests on SQLite
# and on a throwaway PostgreSQL, then the end-to-end stories (stories/README.md). A failing stage
# does not stop the others; a table of every stage with its result and time comes last, and the
# exit status is non-zero if any stage failed.
#
# Usage: scripts/test.sh [pytest arguments]
#   SKIP_STAGES="fuzz scale-out"  skip stages by name (shown as skipped)
#   SKIP_BROWSER_TESTS=1          skip the browser stage; SKIP_CLIENT_TESTS=1 the client stages (client, client-ts)
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements-dev.txt || {
  echo "test: setting up .venv failed; no stage can run" >&2
  exit 1
}
unset DATABASE_URL REDIS_URL
export DJANGO_SETTINGS_MODULE=oneonone.settings
. scripts/ci/serve_lib.sh

skip_stages=" ${SKIP_STAGES:-} "
[ "${SKIP_BROWSER_TESTS:-}" = 1 ] && skip_stages+="browser "
[ "${SKIP_CLIENT_TESTS:-}" = 1 ] && skip_stages+="client client-ts "

results=()
started=$SECONDS
current="" current_began=0

# stage NAME COMMAND...: run COMMAND (under `set -e`, in a subshell) as one stage and record its result
# and time; the run goes on whatever happens. A stage is one line below.
stage() {
  local name="$1" began=$SECONDS status
  shift
  if [[ "$skip_stages" == *" $name "* ]]; then
    echo "== $name: skipped"
    results+=("$name skipped 0")
    return 0
  fi
  echo "== $name"
  current="$name" current_began=$SECONDS
  # Not `( ... ) || status=$?`: that would switch `set -e` off inside the subshell.
  (
    set -e
    "$@"
  )
  status=$?
  current=""
  if [ "$status" = 0 ]; then
    echo "== $name: pass in $((SECONDS - began)) s"
    results+=("$name pass $((SECONDS - began))")
  else
    echo "== $name: FAILED (exit $status) in $((SECONDS - began)) s"
    results+=("$name FAIL $((SECONDS - began))")
  fi
}

# The table of every stage run so far; fails if one failed.
summary() {
  local row name result seconds failed=0
  echo
  echo "== summary"
  printf '%-18s %-8s %8s\n' stage result seconds
  for row in "${results[@]}"; do
    read -r name result seconds <<<"$row"
    printf '%-18s %-8s %8s\n' "$name" "$result" "$seconds"
    [ "$result" = FAIL ] && failed=$((failed + 1))
  done
  printf '%-18s %-8s %8s\n' total "$([ "$failed" = 0 ] && echo pass || echo "$failed FAIL")" "$((SECONDS - started))"
  [ "$failed" = 0 ]
}
# Interrupted: the stage's own cleanup has run (its subshell exited first); show what ran, then stop.
interrupted() {
  [ -z "$current" ] || results+=("$current FAIL $((SECONDS - current_began))")
  summary
  echo "test: interrupted${current:+ during $current}"
  exit 130
}
trap interrupted INT TERM

lint() {
  .venv/bin/ruff check .
  .venv/bin/ruff format --check .
}

# The cluster is stopped on the way out whatever happens, Ctrl-C included.
pytest_on_postgres() {
  PG_TMPDIR="" # never a cluster the caller started
  trap '[ -z "$PG_TMPDIR" ] || scripts/pg-throwaway.sh stop "$PG_TMPDIR"' EXIT
  trap 'exit 130' INT TERM
  start_pg
  .venv/bin/pytest -q -p no:cacheprovider "$@"
}

stage ruff lint
stage mypy .venv/bin/mypy
stage migrations .venv/bin/python manage.py makemigrations --check --dry-run
stage schema .venv/bin/python manage.py spectacular --validate --fail-on-warn --file /dev/null
stage pytest-sqlite .venv/bin/pytest -q -p no:cacheprovider "$@"
stage pytest-postgres pytest_on_postgres "$@"
stage mutation-sample scripts/ci/mutation_sample.sh
stage fuzz env FUZZ_MAX_TIME=240 scripts/ci/fuzz.sh
stage fuzz-sqlite env FUZZ_DATABASE=sqlite FUZZ_MAX_TIME=240 scripts/ci/fuzz.sh
stage outage scripts/ci/db_outage.sh
stage scale-out scripts/ci/scale_out.sh
stage delivery scripts/ci/delivery.sh
stage webhooks scripts/ci/webhooks.sh
stage browser scripts/ci/browser.sh
stage client scripts/ci/client.sh
stage client-ts scripts/ci/client_ts.sh

summary
