#!/usr/bin/env bash
# Runs FitBuddy's web server, a Celery worker and Celery beat together until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
port=${PORT:-8000}
mkdir -p .local
# Affiliate connections through PgBouncer when it runs (make services starts it).
if tools/pgbouncer.sh status >/dev/null 2>&1; then export DATABASE_POOLER=${DATABASE_POOLER:-127.0.0.1:6432}; fi
# Each process logs in with only the rights its job needs (docs/security.md): web, worker and beat
# as the web login (rows only); the worker alone also gets the administrator login, to create and
# drop gyms' databases and roles. `make start_local_database` made the web login.
owner_url=${DATABASE_URL:-postgres://fitbud:password1@localhost:5432/affiliate-mgt}
web_url=${WEB_DATABASE_URL:-postgres://fitbud_web:password1-web@localhost:5432/affiliate-mgt}
DATABASE_URL=$web_url PROVISIONING_DATABASE_URL=${PROVISIONING_DATABASE_URL:-$owner_url} \
  $py -m celery -A fitbuddy worker --loglevel=INFO --concurrency="${CELERY_CONCURRENCY:-2}" &
worker=$!
# Celery beat runs the reconciler (stuck affiliates and migration runs are queued again).
DATABASE_URL=$web_url $py -m celery -A fitbuddy beat --loglevel=INFO --schedule .local/celerybeat-schedule &
beat=$!
trap 'kill $worker $beat 2>/dev/null; wait $worker $beat 2>/dev/null' EXIT INT TERM
echo "FitBuddy: command center http://admin.localhost:$port/admin/  demo gym http://ironworks.localhost:$port/"
# The development server (DEBUG, the seeded staff login) listens on this machine only.
DATABASE_URL=$web_url $py manage.py runserver "127.0.0.1:$port"
