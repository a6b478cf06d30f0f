"""Creating and dropping PostgreSQL databases (names always quoted with psycopg.sql)."""

from __future__ import annotations

import psycopg
from psycopg import sql

from .flyway import DatabaseTarget

MAINTENANCE_DATABASE = "postgres"


def admin_connect(target: DatabaseTarget, *, dbname: str = MAINTENANCE_DATABASE, **kwargs) -> psycopg.Connection:
    """An autocommit connection to the target's server (CREATE DATABASE cannot run in a transaction)."""
    return psycopg.connect(**target.conninfo(dbname=dbname), autocommit=True, connect_timeout=10, **kwargs)


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
