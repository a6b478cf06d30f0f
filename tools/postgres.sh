#!/usr/bin/env bash
# Starts (or reuses) the local PostgreSQL FitBuddy uses without Docker, and makes sure the
# `fitbud` login (password `password1`) exists.
#
#   tools/postgres.sh start   reuse a server already answering on $PGPORT, else start the
#                             project-managed cluster (initdb on first use)
#   tools/postgres.sh stop    stop the project-managed cluster
#   tools/postgres.sh status
#
# Settings (environment): FITBUDDY_PG_PORT (5432), FITBUDDY_PGDATA (cluster folder),
# FITBUDDY_DB_USER / FITBUDDY_DB_PASSWORD (fitbud / password1).
set -euo pipefail
port=${FITBUDDY_PG_PORT:-5432}
user=${FITBUDDY_DB_USER:-fitbud}
password=${FITBUDDY_DB_PASSWORD:-password1}
if [ "$(id -u)" = 0 ]; then
  # initdb refuses to run as root: the cluster belongs to the postgres system user.
  data=${FITBUDDY_PGDATA:-/var/lib/fitbuddy/postgres}
  as_owner() { runuser -u postgres -- "$@"; }
else
  data=${FITBUDDY_PGDATA:-$(cd "$(dirname "$0")/.." && pwd)/.local/postgres}
  as_owner() { "$@"; }
fi
bindir=$(pg_config --bindir 2>/dev/null || true)
for candidate in "$bindir" /usr/lib/postgresql/*/bin; do
  if [ -x "$candidate/initdb" ]; then bindir=$candidate; fi
done
[ -x "$bindir/pg_ctl" ] || { echo "error: PostgreSQL 14+ server binaries not found (apt-get install postgresql)" >&2; exit 1; }

ready() { pg_isready -q -h localhost -p "$port"; }

ensure_role() {
  # Superuser access: the project-managed cluster's owner through its socket, or an existing
  # server's `postgres` login if we have one.
  local psql_super
  if [ -d "$data" ] && [ -f "$data/postmaster.pid" ]; then
    psql_super=(as_owner psql -h "$data" -p "$port" -U postgres -d postgres)
  else
    psql_super=(psql -h localhost -p "$port" -U postgres -d postgres)
  fi
  "${psql_super[@]}" -v ON_ERROR_STOP=1 -q -v user="$user" -v password="$password" <<'SQL' || {
SET client_min_messages = warning;
SELECT format('CREATE ROLE %I LOGIN', :'user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') \gexec
-- CREATEDB/CREATEROLE: fitbud provisions affiliate databases and their roles locally.
SELECT format('ALTER ROLE %I LOGIN CREATEDB CREATEROLE PASSWORD %L', :'user', :'password') \gexec
SELECT format('GRANT pg_signal_backend TO %I', :'user') \gexec
-- postgres and template1 are open to every login by default: an affiliate's role could connect
-- there and list every database and role. Only the administrator login keeps CONNECT.
SELECT format('GRANT CONNECT ON DATABASE postgres, template1 TO %I', :'user') \gexec
REVOKE CONNECT, TEMPORARY ON DATABASE postgres, template1 FROM PUBLIC;
SQL
    echo "warning: could not make sure role '$user' exists; create it with CREATEDB CREATEROLE" >&2
  }
}

case "${1:-start}" in
  start)
    if ready && ! { [ -f "$data/postmaster.pid" ]; }; then
      echo "postgres: reusing the server already running on localhost:$port"
      ensure_role
      exit 0
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
      echo "postgres: creating a cluster in $data"
      mkdir -p "$data"
      [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$(dirname "$data")" "$data"
      chmod 700 "$data"
      as_owner "$bindir/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >/dev/null
      cat >> "$data/postgresql.conf" <<CONF
# FitBuddy local development settings
listen_addresses = 'localhost'
port = $port
unix_socket_directories = '$data'
max_connections = 1000
shared_buffers = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
    fi
    if ! as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      echo "postgres: starting on localhost:$port"
      as_owner "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start >/dev/null
    fi
    ensure_role
    echo "postgres: ready on localhost:$port (login $user)"
    ;;
  stop)
    if [ -f "$data/postmaster.pid" ]; then as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop; fi
    ;;
  status)
    if ready; then echo "postgres: running on localhost:$port"; else echo "postgres: not running"; exit 3; fi
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
