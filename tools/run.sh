#!/usr/bin/env bash
# Runs FitBuddy's web server and a Celery worker together until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
port=${PORT:-8000}
$py -m celery -A fitbuddy worker --loglevel=INFO --concurrency="${CELERY_CONCURRENCY:-2}" &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT INT TERM
echo "FitBuddy: command center http://admin.localhost:$port/admin/  demo gym http://ironworks.localhost:$port/"
$py manage.py runserver "0.0.0.0:$port"
