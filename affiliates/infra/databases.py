"""PostgreSQL administration for affiliate databases: every statement that creates, locks down,
grants, switches or drops a database or role. Names always reach SQL through ``psycopg.sql``.

Each function takes an autocommit connection from :func:`admin_connect` (``CREATE DATABASE`` and
``DROP DATABASE`` cannot run in a transaction) and checks before it acts, so calling it again
changes nothing.
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.conf import settings
from psycopg import sql

from affiliates.infra.targets import CONNECT_TIMEOUT, MAINTENANCE_DATABASE, DatabaseTarget


def admin_connect(
    target: DatabaseTarget, *, dbname: str = MAINTENANCE_DATABASE, **kwargs: Any
) -> psycopg.Connection[Any]:
    """An autocommit connection to the target's server (its maintenance database unless told otherwise)."""
    return psycopg.connect(**target.conninfo(dbname=dbname), autocommit=True, connect_timeout=CONNECT_TIMEOUT, **kwargs)


# --- databases ---


def database_exists(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def database_create(
    conn: psycopg.Connection, name: str, *, owner: str | None = None, template: str | None = None
) -> bool:
    """Create a database unless it exists; True when this call created it."""
    if database_exists(conn, name):
        return False
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if owner:
        statement += sql.SQL(" OWNER {}").format(sql.Identifier(owner))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    try:
        conn.execute(statement)
    except psycopg.errors.DuplicateDatabase:
        return False  # created concurrently by someone else: the outcome is the same
    return True


def database_drop(conn: psycopg.Connection, name: str) -> bool:
    """Drop a database if it exists, ending its sessions first; True when it was dropped."""
    if not database_exists(conn, name):
        return False
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    return True


def database_lock_down(conn: psycopg.Connection[Any], name: str, *, role: str | None = None) -> None:
    """Nobody but ``role`` (its pooler lookup login, superusers and owners) may connect or create temp tables."""
    _acl_change(conn, sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
    if role:
        _acl_change(
            conn, sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(name), sql.Identifier(role))
        )
        # The connection pooler's lookup login looks the role up in its own database (auth_query).
        if settings.POOLER_AUTH_USER and role_exists(conn, settings.POOLER_AUTH_USER):
            _acl_change(
                conn,
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                    sql.Identifier(name), sql.Identifier(settings.POOLER_AUTH_USER)
                ),
            )


#: How often a GRANT or REVOKE is tried when another session changes the same database's privileges.
ACL_ATTEMPTS = 20


def _acl_change(conn: psycopg.Connection[Any], statement: sql.Composed) -> None:
    """Run a GRANT or REVOKE on a database, which another session may be changing at the same moment.

    Two sessions changing one database's privileges at once (two workers provisioning, each closing
    the management database to PUBLIC) make one fail with "tuple concurrently updated". Both want the
    same end state and the statements are idempotent, so the loser runs its statement again at once
    (the winner has committed by the time the loser hears of it).
    """
    for attempt in range(1, ACL_ATTEMPTS + 1):
        try:
            conn.execute(statement)
            return
        except psycopg.errors.InternalError_ as exc:
            if "concurrently updated" not in str(exc) or attempt == ACL_ATTEMPTS:
                raise


#: The databases every PostgreSQL server has; open to PUBLIC by default, so any login (an
#: affiliate's role included) could connect there and list every database and role.
MAINTENANCE_DATABASES = ("postgres", "template1")


def maintenance_lock_down(conn: psycopg.Connection, *, admin: str) -> list[str]:
    """Close ``postgres`` and ``template1`` to PUBLIC, granting ``admin`` (this login) CONNECT first.

    Only their owner (or a superuser) may; returns the ones still open to PUBLIC because this
    login may not change them, for the caller to report.
    """
    rows = conn.execute(
        "SELECT datname,"
        " pg_has_role(datdba, 'USAGE') OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),"
        " EXISTS (SELECT 1 FROM aclexplode(coalesce(datacl, acldefault('d', datdba))) AS a"
        "         WHERE a.grantee = 0 AND a.privilege_type = 'CONNECT')"
        " FROM pg_database WHERE datname = ANY(%s) ORDER BY datname",
        [list(MAINTENANCE_DATABASES)],
    ).fetchall()
    still_open = []
    for name, may_change, public_connects in rows:
        if not public_connects:
            continue
        if not may_change:
            still_open.append(name)
            continue
        _acl_change(
            conn, sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(name), sql.Identifier(admin))
        )
        _acl_change(conn, sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
    return still_open


# --- roles ---


def role_exists(conn: psycopg.Connection, role: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone() is not None


def role_ensure(conn: psycopg.Connection, role: str, *, password_verifier: str, connection_limit: int) -> bool:
    """A login role with no privileges of its own; True when this call created it.

    The password is (re)set every time, so a retry after a secret rotation still converges. It
    arrives as a SCRAM verifier: no statement a server log could record carries the plain text.
    """
    created = False
    if not role_exists(conn, role):
        try:
            conn.execute(
                sql.SQL(
                    "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT CONNECTION LIMIT {}"
                ).format(sql.Identifier(role), sql.Literal(connection_limit))
            )
            created = True
        except psycopg.errors.DuplicateObject:
            pass  # created concurrently: the outcome is the same
    role_password_set(conn, role, password_verifier=password_verifier)
    return created


def role_password_set(conn: psycopg.Connection, role: str, *, password_verifier: str) -> None:
    """Give the role a new password, as a SCRAM verifier (the plain text never reaches the server)."""
    conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(password_verifier)))


def role_login_set(conn: psycopg.Connection, role: str, *, login: bool) -> None:
    """Let the role log in, or not; stopping logins also ends the role's open sessions."""
    verb = sql.SQL("LOGIN" if login else "NOLOGIN")
    conn.execute(sql.SQL("ALTER ROLE {} {}").format(sql.Identifier(role), verb))
    if not login:
        sessions_terminate(conn, role)


def role_drop(conn: psycopg.Connection, role: str) -> bool:
    """Drop the role if it exists; True when it was dropped."""
    if not role_exists(conn, role):
        return False
    conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
    return True


def sessions_terminate(conn: psycopg.Connection, role: str) -> None:
    """End every session of the role on this server (but this one)."""
    conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s AND pid <> pg_backend_pid()",
        [role],
    )


# --- inside an application database (connect to it, not to the maintenance database) ---


def schema_privileges_grant(conn: psycopg.Connection, *, role: str, owner: str, database: str) -> None:
    """The affiliate's role reads and writes rows in the FitBuddy schema but cannot change the schema.

    Default privileges give it the same on tables that later Flyway scripts (run as ``owner``)
    create; Flyway's history table stays read-only to it.
    """
    schema = sql.Identifier(settings.FLYWAY_SCHEMA)
    grantee, owner_id = sql.Identifier(role), sql.Identifier(owner)
    statements: list[sql.SQL | sql.Composed] = [
        sql.SQL("REVOKE ALL ON SCHEMA public FROM PUBLIC"),
        sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(schema),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, grantee),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(schema, grantee),
        sql.SQL("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {}.flyway_schema_history FROM {}").format(schema, grantee),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, grantee),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
        ).format(owner_id, schema, grantee),
        sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT USAGE, SELECT ON SEQUENCES TO {}").format(
            owner_id, schema, grantee
        ),
        sql.SQL("ALTER ROLE {} IN DATABASE {} SET search_path = {}").format(grantee, sql.Identifier(database), schema),
    ]
    for statement in statements:
        conn.execute(statement)


def schema_version(target: DatabaseTarget) -> str | None:
    """The Flyway version a database is at, read from its history table (no JVM start); None if unmigrated."""
    history = sql.Identifier(settings.FLYWAY_SCHEMA, "flyway_schema_history")
    with psycopg.connect(**target.conninfo(), connect_timeout=CONNECT_TIMEOUT) as conn:
        regclass = f"{settings.FLYWAY_SCHEMA}.flyway_schema_history"
        found = conn.execute("SELECT to_regclass(%s)", [regclass]).fetchone()
        assert found is not None  # a SELECT without FROM answers exactly one row
        if found[0] is None:
            return None
        row = conn.execute(
            sql.SQL(
                "SELECT version FROM {} WHERE success AND version IS NOT NULL ORDER BY installed_rank DESC LIMIT 1"
            ).format(history)
        ).fetchone()
    return row[0] if row else None
