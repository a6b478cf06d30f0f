"""Gyms' load as a database server's own statistics have it: one administrative connection, one query.

``pg_stat_database`` holds each database's cumulative counters (transactions, rows changed) and its
open connections; ``pg_database_size`` sums its files. Both are read for all the named databases on a
server in one statement, so the work per server is one round trip whatever the number of gyms. The
size needs CONNECT on the database (the administrator owns every affiliate database FitBuddy creates)
or ``pg_read_all_stats``; without either it is NULL rather than failing the whole server.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings

from affiliates.infra import databases
from affiliates.infra.targets import DatabaseTarget


@dataclass(frozen=True)
class DatabaseStats:
    """One database's figures as read: its size, connections and cumulative counters."""

    name: str
    size_bytes: int | None
    connections: int
    xact_total: int
    rows_changed_total: int
    stats_reset: datetime.datetime | None


@dataclass(frozen=True)
class ServerStats:
    """What one server said, and when (its own clock, so rates never mix two clocks)."""

    read_at: datetime.datetime
    databases: dict[str, DatabaseStats]


#: Every named database's figures, and the server's time, in one statement. A database with no
#: statistics yet (never connected to since the server started) reads as zeros.
STATS_SQL = """
SELECT t.now, d.datname,
       CASE WHEN has_database_privilege(d.oid, 'CONNECT') OR pg_has_role('pg_read_all_stats', 'USAGE')
            THEN pg_database_size(d.oid) END,
       coalesce(s.numbackends, 0),
       coalesce(s.xact_commit + s.xact_rollback, 0),
       coalesce(s.tup_inserted + s.tup_updated + s.tup_deleted, 0),
       s.stats_reset
  FROM (SELECT statement_timestamp()) AS t(now)
  LEFT JOIN pg_database d ON d.datname = ANY(%s)
  LEFT JOIN pg_stat_database s ON s.datid = d.oid
"""


def server_stats(admin: DatabaseTarget, names: list[str]) -> ServerStats:
    """The figures of the databases named (absent ones are left out) on ``admin``'s server.

    psycopg.OperationalError when the server cannot be reached or the statement runs longer than
    ``LOAD_COLLECT_TIMEOUT_SECONDS``.
    """
    timeout_ms = int(settings.LOAD_COLLECT_TIMEOUT_SECONDS * 1000)
    with databases.admin_connect(admin, options=f"-c statement_timeout={timeout_ms}") as conn:
        rows = conn.execute(STATS_SQL, [names]).fetchall()
    found = {
        name: DatabaseStats(name, size, connections, xacts, changed, reset)
        for _, name, size, connections, xacts, changed, reset in rows
        if name is not None
    }
    return ServerStats(read_at=rows[0][0], databases=found)
