#!/usr/bin/env bash
# PgBouncer in front of the local PostgreSQL for affiliate connections (transaction pooling).
#
#   tools/pgbouncer.sh start    install the auth lookup (as PostgreSQL's superuser), write the
#                               config into $dir and start PgBouncer on localhost:$port
#   tools/pgbouncer.sh install-auth   only the auth lookup (compose runs this as its superuser)
#   tools/pgbouncer.sh stop | status
#
# Affiliate roles authenticate through auth_query (tools/pgbouncer-auth.sql) as the lookup role
# FITBUDDY_POOLER_AUTH_USER (pgbouncer_auth); the only password PgBouncer's own file holds is that
# role's, generated on first start into $dir/lookup-password (mode 0600; `tools/pgbouncer.sh password`
# prints it) unless FITBUDDY_POOLER_AUTH_PASSWORD sets one: the repository holds none.
# Settings: FITBUDDY_POOLER_PORT (6432), FITBUDDY_PG_PORT (5432), FITBUDDY_PGDATA (as
# tools/postgres.sh), FITBUDDY_POOLER_DIR (.local/pgbouncer; as root /var/lib/fitbuddy/pgbouncer).
#
#   tools/pgbouncer.sh password   the lookup login's password (for the admin console: SHOW POOLS, …)
#
# The admin console's own login, FITBUDDY_POOLER_ADMIN_USER (pgbouncer_admin; no PostgreSQL role), is
# in admin_users: lifecycle KILLs a suspended or archived gym's database with it
# (affiliates/infra/pooler_admin.py). Its password is FITBUDDY_POOLER_ADMIN_PASSWORD or one generated
# into $dir/admin-password (0600), which the application reads (POOLER_ADMIN_PASSWORD_FILE).
# `start` on a running PgBouncer whose files differ from what this script writes (an earlier
# version's) writes them again and reloads them (SIGHUP, PgBouncer's RELOAD): no restart.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
port=${FITBUDDY_POOLER_PORT:-6432}
pg_port=${FITBUDDY_PG_PORT:-5432}
auth_user=${FITBUDDY_POOLER_AUTH_USER:-pgbouncer_auth}
pool_size=${FITBUDDY_POOLER_POOL_SIZE:-20}
if [ "$(id -u)" = 0 ]; then
  # PgBouncer refuses to run as root: it runs as postgres, with its files beside the cluster's.
  data=${FITBUDDY_PGDATA:-/var/lib/fitbuddy/postgres}
  dir=${FITBUDDY_POOLER_DIR:-/var/lib/fitbuddy/pgbouncer}
  as_postgres() { runuser -u postgres -- "$@"; }
else
  data=${FITBUDDY_PGDATA:-$root/.local/postgres}
  dir=${FITBUDDY_POOLER_DIR:-$root/.local/pgbouncer}
  as_postgres() { "$@"; }
fi
# A password: given ($1), or the one generated into the file $2 on the first start and kept there (only
# its owner reads it), so a restart keeps it. No password of either login is in the repository.
password_of() {
  local given=$1 file=$2
  if [ -n "$given" ]; then printf '%s' "$given"; return; fi
  if [ ! -s "$file" ]; then
    mkdir -p "$(dirname "$file")"
    (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$file.tmp" && mv "$file.tmp" "$file")
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$file"; fi
  fi
  cat "$file"
}
auth_password=$(password_of "${FITBUDDY_POOLER_AUTH_PASSWORD:-}" "$dir/lookup-password")
admin_user=${FITBUDDY_POOLER_ADMIN_USER:-pgbouncer_admin}
admin_password=$(password_of "${FITBUDDY_POOLER_ADMIN_PASSWORD:-}" "$dir/admin-password")
bin=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
[ -x "$bin" ] || { echo "error: pgbouncer not found (apt-get install pgbouncer)" >&2; exit 1; }
ready() { PGPASSWORD=$auth_password psql -h 127.0.0.1 -p "$port" -U "$auth_user" -d pgbouncer -Atqc "SHOW VERSION" >/dev/null 2>&1; }

superuser_psql() {
  # The project-managed cluster's owner through its socket; else a superuser login over TCP
  # (FITBUDDY_PG_SUPERUSER on FITBUDDY_PG_HOST, password in PGPASSWORD: compose's postgres).
  if [ -f "$data/postmaster.pid" ]; then as_postgres psql -h "$data" -p "$pg_port" -U postgres "$@"
  else psql -h "${FITBUDDY_PG_HOST:-localhost}" -p "$pg_port" -U "${FITBUDDY_PG_SUPERUSER:-postgres}" "$@"; fi
}

install_auth() {
  # The lookup role, and the lookup function in template1 (so every database created later has it)
  # and in every database that exists now.
  superuser_psql -d postgres -v ON_ERROR_STOP=1 -q -v auth_user="$auth_user" -v auth_password="$auth_password" <<'SQL'
SET client_min_messages = warning;
SELECT format('CREATE ROLE %I LOGIN', :'auth_user') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'auth_user') \gexec
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', :'auth_user', :'auth_password') \gexec
SQL
  local db
  for db in $(superuser_psql -d postgres -Atqc "SELECT datname FROM pg_database WHERE datallowconn AND datname <> 'template0'"); do
    # A database dropped since it was listed (another process's test, a gym archived meanwhile) is
    # no longer there to install into, and one dropped and made again under the same name (a test's
    # gym put back) is there again a moment later: only a failure on a database that stays is one.
    local attempt
    for attempt in 1 2 3 4; do
      if superuser_psql -d "$db" -v ON_ERROR_STOP=1 -q -v auth_user="$auth_user" -f "$root/tools/pgbouncer-auth.sql" 2>/dev/null &&
         superuser_psql -d postgres -q -c "GRANT CONNECT ON DATABASE \"$db\" TO \"$auth_user\"" >/dev/null 2>&1; then
        break
      fi
      sleep 0.5
      if [ -z "$(superuser_psql -d postgres -Atqc "SELECT 1 FROM pg_database WHERE datname = '$db' AND datallowconn")" ]; then
        break  # gone: nothing to install into
      fi
      if [ "$attempt" = 4 ]; then
        echo "error: installing the pooler's lookup into $db failed" >&2
        exit 1
      fi
    done
  done
}

write_config() {
  # Into $1 (the config's folder, or a scratch folder to compare with it).
  local out=${1:-$dir}
  mkdir -p "$out"
  # The lookup role's own password (PgBouncer logs in with it to run auth_query) and the admin
  # console's login; no gym's password.
  printf '"%s" "%s"\n"%s" "%s"\n' "$auth_user" "$auth_password" "$admin_user" "$admin_password" > "$out/userlist.txt"
  cat > "$out/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$pg_port auth_user=$auth_user

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
auth_user = $auth_user
auth_query = SELECT username, password FROM pgbouncer.get_auth(\$1)
; Django with DISABLE_SERVER_SIDE_CURSORS and psycopg without prepared statements are correct in
; transaction pooling (docs/connection-pooling.md).
pool_mode = transaction
default_pool_size = $pool_size
max_client_conn = 5000
; Each affiliate database has its own pools (its role's, and the lookup login's for auth_query),
; so PostgreSQL's max_connections must cover about two per affiliate active within this time.
server_idle_timeout = 30
server_login_retry = 1
ignore_startup_parameters = extra_float_digits
stats_users = $auth_user
; Lifecycle KILLs a suspended or archived gym's database here, so a request parked in its pool fails
; at once instead of waiting query_wait_timeout (120 s) for a login PostgreSQL now refuses.
admin_users = $admin_user
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  chmod 600 "$out/userlist.txt"
  if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$out"; fi
}

config_current() {
  # Whether the config on disk is what write_config writes now.
  local fresh same=0
  fresh=$(mktemp -d)
  write_config "$fresh"
  cmp -s "$fresh/pgbouncer.ini" "$dir/pgbouncer.ini" && cmp -s "$fresh/userlist.txt" "$dir/userlist.txt" || same=1
  rm -rf "$fresh"
  return $same
}

# One run at a time: two starting at once (two test processes, a developer and a test) would alter the
# same role and grants together ("tuple concurrently updated") or start PgBouncer twice.
serialize() {
  mkdir -p "$dir"
  exec 9>"$dir/.pgbouncer.sh.lock"
  flock -w 120 9 || { echo "error: another tools/pgbouncer.sh still holds $dir/.pgbouncer.sh.lock after 120 s" >&2; exit 1; }
}

case "${1:-start}" in
  password) printf '%s\n' "$auth_password" ;;
  install-auth) serialize; install_auth ;;
  start)
    serialize
    install_auth
    if ready && config_current; then echo "pgbouncer: ready on localhost:$port"; exit 0; fi
    write_config
    if [ -f "$dir/pgbouncer.pid" ] && kill -0 "$(cat "$dir/pgbouncer.pid")" 2>/dev/null; then
      # Running, but not with this password or config (an earlier version's): reload the new files.
      kill -HUP "$(cat "$dir/pgbouncer.pid")"
      for _ in $(seq 1 50); do ready && break; sleep 0.1; done
      ready || { echo "error: pgbouncer is running but refuses the lookup login; see $dir/pgbouncer.log" >&2; exit 1; }
      echo "pgbouncer: ready on localhost:$port (config reloaded)"
      exit 0
    fi
    # 9>&-: the daemon must not inherit the lock's descriptor, or it would hold the lock for its whole
    # life and the next run of this script would wait on it forever.
    if [ "$(id -u)" = 0 ]; then "$bin" -d -u postgres "$dir/pgbouncer.ini" 9>&-; else "$bin" -d "$dir/pgbouncer.ini" 9>&-; fi
    for _ in $(seq 1 50); do ready && break; sleep 0.1; done
    ready || { echo "error: pgbouncer did not start; see $dir/pgbouncer.log" >&2; exit 1; }
    echo "pgbouncer: ready on localhost:$port (transaction pooling, auth_query as $auth_user)"
    ;;
  stop)
    if [ -f "$dir/pgbouncer.pid" ]; then kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true; fi
    for _ in $(seq 1 50); do ready || break; sleep 0.1; done
    ;;
  status) if ready; then echo "pgbouncer: running on localhost:$port"; else echo "pgbouncer: not running"; exit 3; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
