#!/usr/bin/env bash
# Set everything up and serve the API on 127.0.0.1:8000 (SQLite unless DATABASE_URL is set).
# Usage: scripts/serve.sh [--gunicorn]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements.txt
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py createcachetable
host="${HOST:-127.0.0.1}"
port="${PORT:-8000}"
if [ "${1:-}" = "--gunicorn" ]; then
  exec .venv/bin/gunicorn oneonone.wsgi -c oneonone/gunicorn.conf.py --bind "$host:$port"
fi
export DJANGO_DEBUG="${DJANGO_DEBUG:-1}"
exec .venv/bin/python manage.py runserver "$host:$port"
