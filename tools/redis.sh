#!/usr/bin/env bash
# Starts (or reuses) the local Redis that Celery uses without Docker. It keeps an append-only
# file (in $dir), so queued tasks survive a restart of Redis.
#   tools/redis.sh start|stop|status      settings: FITBUDDY_REDIS_PORT (6379)
set -euo pipefail
port=${FITBUDDY_REDIS_PORT:-6379}
dir=${FITBUDDY_REDIS_DIR:-$(cd "$(dirname "$0")/.." && pwd)/.local/redis}
command -v redis-server >/dev/null || { echo "error: redis-server not found (apt-get install redis-server)" >&2; exit 1; }
ping() { redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; }
case "${1:-start}" in
  start)
    if ping; then echo "redis: ready on localhost:$port"; exit 0; fi
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --dir "$dir" \
      --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" \
      --appendonly yes --appendfsync everysec
    for _ in $(seq 1 50); do ping && break; sleep 0.1; done
    ping || { echo "error: redis did not start; see $dir/redis.log" >&2; exit 1; }
    echo "redis: ready on localhost:$port"
    ;;
  stop) redis-cli -p "$port" shutdown 2>/dev/null || true ;;
  status) if ping; then echo "redis: running on localhost:$port"; else echo "redis: not running"; exit 3; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
