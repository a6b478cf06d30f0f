#!/usr/bin/env bash
# Installs the system packages FitBuddy needs on a Debian/Ubuntu machine, skipping what is
# already there: PostgreSQL 14+ server, Redis, PgBouncer, Java 17+ and Maven (for Flyway), Chromium (browser
# tests). Needs root (or sudo).
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1; }
pg_ok=false
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && pg_ok=true; done
$pg_ok || need+=(postgresql)
have psql || need+=(postgresql-client)
have redis-server || need+=(redis-server)
have pgbouncer || [ -x /usr/sbin/pgbouncer ] || need+=(pgbouncer)
have java || need+=(default-jre-headless)
have mvn || need+=(maven)
have chromium || need+=(chromium)
if [ ${#need[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
echo "system packages: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${need[@]}"
# Debian's postgresql package starts its own cluster on 5432; FitBuddy reuses a running server
# when it finds one (tools/postgres.sh), so leave it be.
