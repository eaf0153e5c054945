#!/usr/bin/env bash
# Set everything up and run the whole suite: lint, schema validation, the tests on
# SQLite, then the tests again on a throwaway PostgreSQL started here.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements-dev.txt
unset DATABASE_URL REDIS_URL
export DJANGO_SETTINGS_MODULE=oneonone.settings

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

echo "== migrations are up to date"
.venv/bin/python manage.py makemigrations --check --dry-run

echo "== OpenAPI schema validates without warnings"
.venv/bin/python manage.py spectacular --validate --fail-on-warn --file /dev/null

echo "== tests on SQLite"
.venv/bin/pytest -q -p no:cacheprovider "$@"

echo "== tests on PostgreSQL"
eval "$(scripts/pg-throwaway.sh)"
trap 'scripts/pg-throwaway.sh stop "$PG_TMPDIR"' EXIT
.venv/bin/pytest -q -p no:cacheprovider "$@"
scripts/pg-throwaway.sh stop "$PG_TMPDIR"
trap - EXIT

echo "== API fuzzing (schemathesis over every operation, real JWT)"
scripts/ci/fuzz.sh

echo "== database outage: 503 while it is down, recovery without a restart"
scripts/ci/db_outage.sh

echo "== scale-out: two app servers behind nginx, one killed mid-run"
scripts/ci/scale_out.sh

if [ "${SKIP_BROWSER_TESTS:-}" != 1 ]; then
  echo "== browser tests (headless Chromium)"
  scripts/ci/browser.sh
fi

if [ "${SKIP_CLIENT_TESTS:-}" != 1 ]; then
  echo "== generated-client story (openapi-python-client)"
  scripts/ci/client.sh
fi
