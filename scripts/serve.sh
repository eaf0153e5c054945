#!/usr/bin/env bash
# Set everything up and serve the API on 127.0.0.1:8000 (SQLite unless DATABASE_URL is set), with the
# background worker beside it (email delivery and periodic tasks; emails print to this console unless
# EMAIL_HOST is set).
# Usage: scripts/serve.sh [--gunicorn]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements.txt
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py createcachetable
host="${HOST:-127.0.0.1}"
port="${PORT:-8000}"

.venv/bin/python manage.py worker &
worker_pid=$!
trap 'kill -TERM "$worker_pid" 2>/dev/null || true; wait "$worker_pid" 2>/dev/null || true' EXIT

if [ "${1:-}" = "--gunicorn" ]; then
  .venv/bin/gunicorn oneonone.wsgi -c oneonone/gunicorn.conf.py --bind "$host:$port"
else
  export DJANGO_DEBUG="${DJANGO_DEBUG:-1}"
  .venv/bin/python manage.py runserver "$host:$port"
fi
