#!/usr/bin/env bash
# Local stand-ins for FitBuddy's production parts on AWS, for trying them by hand (the test suite
# starts its own):
#   - moto's server (RDS, Secrets Manager, S3) on http://127.0.0.1:${MOTO_PORT:-5000}
#   - a second PostgreSQL server on localhost:${FITBUDDY_PG2_PORT:-5433}, standing in for an Aurora writer
#
#   tools/aws_local.sh start | stop
set -euo pipefail
cd "$(dirname "$0")/.."
moto_port=${MOTO_PORT:-5000}
pg2_port=${FITBUDDY_PG2_PORT:-5433}
if [ "$(id -u)" = 0 ]; then pg2_data=${FITBUDDY_PG2DATA:-/var/lib/fitbuddy/postgres2}; else pg2_data=${FITBUDDY_PG2DATA:-$PWD/.local/postgres2}; fi
answering() { .venv/bin/python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$moto_port/moto-api/', timeout=1)" 2>/dev/null; }
mkdir -p .local
case "${1:-start}" in
  start)
    if ! answering; then
      nohup .venv/bin/moto_server -H 127.0.0.1 -p "$moto_port" >.local/moto.log 2>&1 &
      echo $! >.local/moto.pid
      for _ in $(seq 1 100); do answering && break; sleep 0.1; done
      answering || { echo "error: moto_server did not start (see .local/moto.log)" >&2; exit 1; }
    fi
    echo "moto: ready on http://127.0.0.1:$moto_port"
    FITBUDDY_PG_PORT=$pg2_port FITBUDDY_PGDATA=$pg2_data tools/postgres.sh start
    cat <<TEXT
Point FitBuddy at them:
  export AWS_ENDPOINT_URL=http://127.0.0.1:$moto_port AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
  export AWS_DEFAULT_REGION=us-east-1 FITBUDDY_BACKUP_BUCKET=fitbuddy-backups
TEXT
    ;;
  stop)
    [ -f .local/moto.pid ] && kill "$(cat .local/moto.pid)" 2>/dev/null || true
    rm -f .local/moto.pid
    FITBUDDY_PG_PORT=$pg2_port FITBUDDY_PGDATA=$pg2_data tools/postgres.sh stop
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
