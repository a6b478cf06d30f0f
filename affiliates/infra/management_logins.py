"""The management database's logins and what each may do there: every GRANT, REVOKE and ownership
change that keeps the web process to rows and the audit trail out of its reach.

Three logins share the management database (docs/security.md):

- the **owner** (``DATABASE_URL`` of the deploy step: Flyway and Django's ``migrate``) owns the
  ``master`` and ``public`` tables and runs this module;
- the **web login** (``WEB_DATABASE_LOGIN``) reads and writes rows: no DDL, no CREATEDB or
  CREATEROLE, owns nothing; on the audit trail it may only insert and read;
- the **audit owner** (``AUDIT_OWNER_ROLE``, NOLOGIN) owns ``staff_audit`` and its chain's head, so no login the
  application uses can disable its triggers; the owner login is its member only so that Flyway can
  still change the table.

Everything here checks before it acts, so running it again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from affiliates.infra import credentials

#: Tables of the management database the web login may read but never write.
READ_ONLY_TABLES = (("master", "flyway_schema_history"), ("public", "django_migrations"))
#: The append-only audit trail: the web login inserts and reads, nothing else.
AUDIT_TABLE = ("master", "staff_audit")
#: The audit chain's head, moved only by the trail's own trigger: the web login reads it.
AUDIT_HEAD_TABLE = ("master", "staff_audit_chain_head")
SCHEMAS = ("public", "master")


class LoginMissing(Exception):
    """A login that must exist does not, and this connection may not create it."""


@dataclass
class LoginsReport:
    """What :func:`management_logins_ensure` did, for the command's output."""

    created: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _role_exists(conn: psycopg.Connection[Any], role: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone() is not None


def _table_exists(conn: psycopg.Connection[Any], schema: str, table: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s)", [f"{schema}.{table}"]).fetchone()
    return bool(row and row[0])


def _can_create_roles(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    return bool(row and row[0])


def _login_ensure(conn: psycopg.Connection[Any], login: str, password: str, report: LoginsReport) -> None:
    if _role_exists(conn, login):
        if password:  # local development: the login's password follows the setting
            _role_statement(
                conn,
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(login), sql.Literal(credentials.scram_verifier(password))
                ),
            )
        return
    if not password or not _can_create_roles(conn):
        raise LoginMissing(
            f"the web login {login!r} does not exist: create it as the server's administrator "
            f"(CREATE ROLE {login} LOGIN NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD …), then run this again"
        )
    _role_statement(
        conn,
        sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD {}").format(
            sql.Identifier(login), sql.Literal(credentials.scram_verifier(password))
        ),
    )
    report.created.append(login)


def _audit_owner_ensure(conn: psycopg.Connection[Any], role: str, report: LoginsReport) -> None:
    if not _role_exists(conn, role):
        if not _can_create_roles(conn):
            raise LoginMissing(
                f"the audit trail's owner {role!r} does not exist: as the server's administrator, "
                f"CREATE ROLE {role} NOLOGIN and GRANT {role} TO the owner login, then run this again"
            )
        _role_statement(conn, sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
        report.created.append(role)
    member = conn.execute("SELECT pg_has_role(current_user, %s, 'USAGE')", [role]).fetchone()
    if not (member and member[0]):
        # The owner login must be able to act as the table's owner: Flyway changes the table, and
        # ALTER TABLE … OWNER TO needs it. The web login never is a member.
        _role_statement(conn, sql.SQL("GRANT {} TO current_user").format(sql.Identifier(role)))


def _role_statement(conn: psycopg.Connection[Any], statement: sql.Composed) -> None:
    """A statement on a role (cluster-wide), which a deploy of another database on the same server
    may run at the same moment: the loser of that race finds the work done."""
    try:
        conn.execute(statement)
    except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        pass  # made by the other session: the outcome is the same
    except psycopg.errors.InternalError_ as exc:
        if "concurrently updated" not in str(exc):
            raise
        conn.execute(statement)  # the other session has committed: once more settles it


def management_logins_ensure(
    conn: psycopg.Connection[Any], *, database: str, web_login: str, web_password: str, audit_owner: str
) -> LoginsReport:
    """Make the web login and the audit owner exist and hold exactly their rights on ``database``.

    ``conn`` is the owner login's autocommit connection to the management database.
    """
    report = LoginsReport()
    _login_ensure(conn, web_login, web_password, report)
    _audit_owner_ensure(conn, audit_owner, report)
    web = sql.Identifier(web_login)
    statements = [
        sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(sql.Identifier(database)),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), web),
        sql.SQL("ALTER ROLE {} IN DATABASE {} SET search_path = public, master").format(web, sql.Identifier(database)),
    ]
    for schema in map(sql.Identifier, SCHEMAS):
        statements += [
            sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(schema),
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, web),
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(schema, web),
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, web),
            # Tables Flyway or Django's migrate add later, as this owner, get the same rights.
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES FOR ROLE current_user IN SCHEMA {} "
                "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
            ).format(schema, web),
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES FOR ROLE current_user IN SCHEMA {} GRANT USAGE, SELECT ON SEQUENCES TO {}"
            ).format(schema, web),
        ]
    for table in READ_ONLY_TABLES:
        statements.append(
            sql.SQL("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(sql.Identifier(*table), web)
        )
    audit = sql.Identifier(*AUDIT_TABLE)
    statements += [
        # A new owner must be allowed to create in the table's schema (it never logs in).
        sql.SQL("GRANT CREATE ON SCHEMA {} TO {}").format(sql.Identifier(AUDIT_TABLE[0]), sql.Identifier(audit_owner)),
        sql.SQL("ALTER TABLE {} OWNER TO {}").format(audit, sql.Identifier(audit_owner)),
        sql.SQL("REVOKE ALL ON {} FROM {}").format(audit, web),
        sql.SQL("GRANT SELECT, INSERT ON {} TO {}").format(audit, web),
    ]
    head = sql.Identifier(*AUDIT_HEAD_TABLE)
    if _table_exists(conn, *AUDIT_HEAD_TABLE):
        statements += [
            sql.SQL("ALTER TABLE {} OWNER TO {}").format(head, sql.Identifier(audit_owner)),
            sql.SQL("REVOKE ALL ON {} FROM {}").format(head, web),
            sql.SQL("GRANT SELECT ON {} TO {}").format(head, web),
        ]
    with conn.transaction():
        for statement in statements:
            conn.execute(statement)
    return report
