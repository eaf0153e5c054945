#!/usr/bin/env bash
# CI's share of mutation testing (docs/testing.md): the day's sample of mutants, within 5 minutes.
#
# Each day (UTC) takes the next module of scripts/mutation/modules.toml in turn and a fixed number
# of its mutants, chosen by a hash of the date and each mutant's name: the same sample all day
# (a re-run judges the same mutants), another one the next day, every module every few days. The
# sample runs in a fresh workspace (no cached verdict) against this checkout, on PostgreSQL for the
# modules whose locks matter; the step fails when the sample's score, reviewed equivalents left out
# (scripts/mutation/equivalents.toml), is under 95 %.
#
# Usage: scripts/ci/mutation_sample.sh [--date YYYY-MM-DD] [--module PATH] [--size N]
#   MUTATION_SAMPLE_SIZE=N   mutants in the sample (default in scripts/mutation/mutate.py)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/ci/serve_lib.sh

started=$SECONDS
mutation_venv
mutate=(.venv-mutation/bin/python scripts/mutation/mutate.py)

PG_TMPDIR=""
trap '[ -z "$PG_TMPDIR" ] || scripts/pg-throwaway.sh stop "$PG_TMPDIR"' EXIT
trap 'exit 130' INT TERM
if "${mutate[@]}" sample --needs-postgres "$@"; then
  unset DATABASE_URL
  start_pg
fi

status=0
"${mutate[@]}" sample "$@" || status=$?
echo "mutation-sample: $((SECONDS - started)) s"
if [ "$status" -eq 0 ]; then
  echo "mutation-sample: 1 passed, 0 failed"
else
  echo "mutation-sample: 0 passed, 1 failed"
fi
exit "$status"
