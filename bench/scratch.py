"""A scratch management database (and Redis database) for a benchmark run, set up before Django.

Import this module first: it creates the database and points DATABASE_URL at it, so nothing a
benchmark does touches the developer's own `affiliate-mgt`.
"""

from __future__ import annotations

import os
import uuid

import environ
import psycopg
from psycopg import sql

RUN = uuid.uuid4().hex[:6]
MGMT = f"bench_mgt_{RUN}"
TEMPLATE = f"bench_template_{RUN}"
SLUG_PREFIX = f"b{RUN}_"

_base = environ.Env.db_url_config(
    os.environ.get("DATABASE_URL", "postgres://fitbud:password1@localhost:5432/affiliate-mgt")
)
ADMIN = {
    "host": _base["HOST"] or "localhost",
    "port": _base["PORT"] or 5432,
    "user": _base["USER"],
    "password": _base["PASSWORD"],
}
with psycopg.connect(**ADMIN, dbname="postgres", autocommit=True) as _conn:
    _conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(MGMT)))
os.environ.update(
    {
        "DATABASE_URL": f"postgres://{ADMIN['user']}:{ADMIN['password']}@{ADMIN['host']}:{ADMIN['port']}/{MGMT}",
        # Redis database 1: 0 is the local stack's, 15 and down are the test processes'.
        "REDIS_URL": "redis://localhost:6379/1",
        "PROVISIONING_TEMPLATE_DATABASE": TEMPLATE,
        "FITBUDDY_ENV": "test",
    }
)

import common  # noqa: E402,F401  (Django set up on the scratch database)
from django.core.management import call_command  # noqa: E402

from affiliates.infra import databases, flyway  # noqa: E402


def prepare() -> None:
    """Django's framework tables and Flyway's sql/affiliate_management on the scratch database."""
    call_command("migrate", verbosity=0)
    flyway.migrate(common.server_target(MGMT), kind="affiliate_management")


def cleanup() -> None:
    """Drop every affiliate database and role this run made, the template, and the scratch database."""
    from django.db import connections

    from affiliates.routing.connections import forget_all

    forget_all()
    connections.close_all()
    with databases.admin_connect(common.server_target()) as conn:
        names = [
            r[0]
            for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [f"fitbuddy_{SLUG_PREFIX}%"])
        ]
        for name in [*names, TEMPLATE, MGMT]:
            databases.database_drop(conn, name)
        for (role,) in conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname LIKE %s", [f"fitbuddy_{SLUG_PREFIX}%"]
        ).fetchall():
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
