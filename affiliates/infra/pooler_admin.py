"""PgBouncer's admin console: ending an affiliate's sessions in the pooler when it stops serving.

Suspending or archiving an affiliate ends its PostgreSQL sessions and stops its role's logins. A
client connection parked in PgBouncer then waits for a server connection PgBouncer can no longer
open, and PgBouncer retries the login until ``query_wait_timeout`` (120 s) before it answers. So
lifecycle also tells the pooler to ``KILL`` the database (every client and server connection of it
closed at once: the waiting request fails in milliseconds) and ``RESUME`` it (a killed database is
paused; new connections then fail at once on the role's refused login).

The console login is ``POOLER_ADMIN_USER`` with ``POOLER_ADMIN_PASSWORD`` or the password in
``POOLER_ADMIN_PASSWORD_FILE`` (tools/pgbouncer.sh lists the login in ``admin_users`` and generates
that file). With no admin user set (RDS Proxy has no console) this does nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg
from django.conf import settings
from psycopg import sql

logger = logging.getLogger(__name__)

#: Seconds to reach the console: it answers locally in milliseconds, and lifecycle must not hang on it.
CONSOLE_TIMEOUT = 3


def _password() -> str:
    if settings.POOLER_ADMIN_PASSWORD:
        return str(settings.POOLER_ADMIN_PASSWORD)
    path = Path(settings.POOLER_ADMIN_PASSWORD_FILE) if settings.POOLER_ADMIN_PASSWORD_FILE else None
    try:
        return path.read_text().strip() if path else ""
    except OSError:
        return ""


def database_sessions_end(pooler: tuple[str, int], database: str) -> str:
    """Close every pooled connection to ``database`` (clients and servers) and unpause it; what was done."""
    user = settings.POOLER_ADMIN_USER
    if not user:
        return "no pooler admin login (POOLER_ADMIN_USER): pooled sessions left to time out"
    host, port = pooler
    try:
        with psycopg.connect(
            host=host,
            port=port,
            dbname="pgbouncer",
            user=user,
            password=_password(),
            autocommit=True,
            prepare_threshold=None,
            connect_timeout=CONSOLE_TIMEOUT,
        ) as console:
            known = {row[0] for row in console.execute("SHOW DATABASES").fetchall()}
            if database not in known:
                return f"pooler {host}:{port} holds no connection to {database}"
            console.execute(sql.SQL("KILL {}").format(sql.Identifier(database)))
            console.execute(sql.SQL("RESUME {}").format(sql.Identifier(database)))
    except psycopg.Error as exc:
        message = " ".join(str(exc).split())[:200]
        logger.warning("pooler %s:%s: ending the sessions of %s failed: %s", host, port, database, message)
        return f"pooler {host}:{port}: ending its sessions failed ({message})"
    return f"pooler {host}:{port}: connections to {database} closed"
