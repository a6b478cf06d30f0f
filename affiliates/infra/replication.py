"""Copying one gym's database to another PostgreSQL server, and proving the copy equal.

Two ways, chosen per move (``operations/move.py``):

- **logical replication**: the schema is copied with ``pg_dump --schema-only``; a publication of the
  gym's tables on the source and a subscription on the destination copy the rows and then stream
  every change while the gym keeps serving. It needs ``wal_level = logical`` on the source and an
  administrator who may create a subscription on the destination (a superuser here;
  ``rds_superuser`` on RDS and Aurora, with ``rds.logical_replication = 1``).
- **dump and restore**: ``pg_dump`` piped into ``pg_restore``, during the write pause.

Logical replication copies no sequence: :func:`sequences_copy` sets them during the pause. Each
table's fingerprint (:func:`fingerprints`: its row count and the sum of a 64-bit hash of each
row's text) is read on both sides while nobody writes; the copy counts only when they all match.

Every name reaching SQL goes through ``psycopg.sql``; the subscription's connection string holds the
source administrator's password for as long as the subscription exists (it is dropped before the
switch), readable only by superusers.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from typing import Any

import psycopg
from django.conf import settings
from psycopg import sql
from psycopg.conninfo import make_conninfo

from affiliates.errors import OperationError
from affiliates.infra import backups
from affiliates.infra.databases import admin_connect
from affiliates.infra.targets import DatabaseTarget

#: Schemas a gym's copy leaves out: the pooler's lookup function belongs to each server (template1).
EXCLUDED_SCHEMAS = ("pgbouncer",)
#: Roles that may create a subscription besides superusers (RDS/Aurora's administrator; PostgreSQL 16+).
SUBSCRIBER_ROLES = ("rds_superuser", "pg_create_subscription")


class CopyError(OperationError):
    """The copy could not be made or is not equal to its source."""


def _connect(target: DatabaseTarget) -> psycopg.Connection[Any]:
    return admin_connect(target, dbname=target.name)


# --- can this pair of servers replicate? ---


def logical_refusal(source: DatabaseTarget, destination: DatabaseTarget) -> str:
    """Why logical replication cannot carry a database from ``source`` to ``destination`` ("" when it can)."""
    with admin_connect(source) as conn:
        wal_level = _one(conn, "SHOW wal_level")
        if wal_level != "logical":
            return f"the source's wal_level is {wal_level}, not logical"
        may_replicate = _one(
            conn,
            "SELECT rolsuper OR rolreplication OR pg_has_role(current_user, 'rds_replication', 'member')"
            " FROM pg_roles WHERE rolname = current_user"
            if _role_exists(conn, "rds_replication")
            else "SELECT rolsuper OR rolreplication FROM pg_roles WHERE rolname = current_user",
        )
        if not may_replicate:
            return f"{source.user} may not replicate from the source (no REPLICATION)"
    with admin_connect(destination) as conn:
        if _one(conn, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
            return ""
        for role in SUBSCRIBER_ROLES:
            if _role_exists(conn, role) and _one(conn, "SELECT pg_has_role(current_user, %s, 'member')", [role]):
                return ""
    return f"{destination.user} may not create a subscription on the destination"


def _one(conn: psycopg.Connection[Any], query: str, params: list[Any] | None = None) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None  # every query given here answers one row
    return row[0]


def _role_exists(conn: psycopg.Connection[Any], role: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone() is not None


# --- pg_dump into pg_restore ---


def database_copy(source: DatabaseTarget, destination: DatabaseTarget, *, schema_only: bool) -> None:
    """Copy the source database (its schema, or all of it) into the existing, empty destination database."""
    dump = [
        shutil.which("pg_dump") or "pg_dump",
        "--format=custom",
        "--no-owner",
        "--no-privileges",
        *(f"--exclude-schema={schema}" for schema in EXCLUDED_SCHEMAS),
        *(["--schema-only"] if schema_only else []),
        *source.client_args(),
        source.name,
    ]
    restore = backups.restore_command(destination)
    dumping = subprocess.Popen(dump, env=source.client_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    restoring = subprocess.run(
        restore, env=destination.client_env(), stdin=dumping.stdout, capture_output=True, text=True, check=False
    )
    assert dumping.stdout is not None and dumping.stderr is not None  # both pipes, asked for above
    dumping.stdout.close()
    dump_error = dumping.stderr.read().decode(errors="replace").strip()
    if dumping.wait() != 0:
        raise CopyError(f"pg_dump of {source} failed: {dump_error[-2000:]}")
    if restoring.returncode != 0:
        raise CopyError(f"pg_restore into {destination} failed: {restoring.stderr.strip()[-2000:]}")


# --- publication and subscription ---


def tables_of(conn: psycopg.Connection[Any]) -> list[str]:
    """The FitBuddy schema's tables, by name."""
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", [settings.FLYWAY_SCHEMA]
    ).fetchall()
    return [row[0] for row in rows]


def publication_ensure(source: DatabaseTarget, name: str) -> bool:
    """Publish every table of the gym's schema (as their owner); True when created now."""
    with _connect(source) as conn:
        if conn.execute("SELECT 1 FROM pg_publication WHERE pubname = %s", [name]).fetchone():
            return False
        tables = sql.SQL(", ").join(sql.Identifier(settings.FLYWAY_SCHEMA, t) for t in tables_of(conn))
        conn.execute(sql.SQL("CREATE PUBLICATION {} FOR TABLE {}").format(sql.Identifier(name), tables))
    return True


def publication_drop(source: DatabaseTarget, name: str) -> None:
    with _connect(source) as conn:
        conn.execute(sql.SQL("DROP PUBLICATION IF EXISTS {}").format(sql.Identifier(name)))


def subscription_ensure(destination: DatabaseTarget, name: str, *, source: DatabaseTarget) -> bool:
    """Subscribe the destination to the source's publication ``name`` (its slot has the same name)."""
    with _connect(destination) as conn:
        if conn.execute("SELECT 1 FROM pg_subscription WHERE subname = %s", [name]).fetchone():
            return False
        source_info = make_conninfo(
            **{k: v for k, v in source.conninfo().items() if v not in ("", None)}, connect_timeout=10
        )
        conn.execute(
            sql.SQL("CREATE SUBSCRIPTION {} CONNECTION {} PUBLICATION {} WITH (slot_name = {})").format(
                sql.Identifier(name), sql.Literal(source_info), sql.Identifier(name), sql.Literal(name)
            )
        )
    return True


def subscription_drop(destination: DatabaseTarget, name: str, *, source: DatabaseTarget | None = None) -> None:
    """Drop the subscription and its slot on the source; when the source cannot be reached, drop it
    locally and then the slot on the source by hand (:func:`slot_drop`)."""
    with _connect(destination) as conn:
        if not conn.execute("SELECT 1 FROM pg_subscription WHERE subname = %s", [name]).fetchone():
            return
        try:
            conn.execute(sql.SQL("DROP SUBSCRIPTION {}").format(sql.Identifier(name)))
            return
        except psycopg.Error:
            conn.execute(sql.SQL("ALTER SUBSCRIPTION {} DISABLE").format(sql.Identifier(name)))
            conn.execute(sql.SQL("ALTER SUBSCRIPTION {} SET (slot_name = NONE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("DROP SUBSCRIPTION {}").format(sql.Identifier(name)))
    if source is not None:
        slot_drop(source, name)


def slot_drop(source: DatabaseTarget, name: str) -> None:
    """Drop a replication slot left on the source (a subscription dropped without it)."""
    with admin_connect(source) as conn:
        conn.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s AND NOT active",
            [name],
        )


def _wait(condition: Callable[[], bool], *, seconds: float, what: str, every: float = 0.02) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise CopyError(f"{what} did not happen within {seconds:g} s")
        time.sleep(every)


def initial_copy_wait(destination: DatabaseTarget, name: str, *, seconds: float) -> None:
    """Wait until the subscription copied every table and streams (each table ``ready`` or ``synchronized``)."""
    with _connect(destination) as conn:

        def copied() -> bool:
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE r.srsubstate NOT IN ('r', 's')), count(*) FROM pg_subscription s"
                " JOIN pg_subscription_rel r ON r.srsubid = s.oid WHERE s.subname = %s",
                [name],
            ).fetchone()
            assert row is not None
            return bool(row[1] > 0 and row[0] == 0)

        _wait(copied, seconds=seconds, what=f"the initial copy of {destination.name}", every=0.1)


def catch_up_wait(source: DatabaseTarget, name: str, *, seconds: float) -> str:
    """Once nobody writes to the source: wait until the subscriber confirmed everything it wrote; the position."""
    with admin_connect(source) as conn:
        lsn = _one(conn, "SELECT pg_current_wal_lsn()::text")

        def caught_up() -> bool:
            row = conn.execute(
                "SELECT confirmed_flush_lsn >= %s::pg_lsn FROM pg_replication_slots WHERE slot_name = %s", [lsn, name]
            ).fetchone()
            return row is not None and row[0] is True

        _wait(caught_up, seconds=seconds, what=f"the catch-up of {source.name} to {lsn}")
    return str(lsn)


def sequences_copy(source: DatabaseTarget, destination: DatabaseTarget) -> int:
    """Set each of the destination's sequences to the source's value (logical replication copies none)."""
    with _connect(source) as src:
        rows = src.execute(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = %s", [settings.FLYWAY_SCHEMA]
        ).fetchall()
    with _connect(destination) as dst:
        for name, last_value in rows:
            sequence = sql.Literal(f"{settings.FLYWAY_SCHEMA}.{sql.Identifier(name).as_string(dst)}")
            if last_value is None:  # never used: the destination's is unused too
                continue
            dst.execute(sql.SQL("SELECT setval({}, %s, true)").format(sequence), [last_value])
    return len(rows)


# --- is the copy equal? ---

Fingerprint = tuple[int, int]


def fingerprints(target: DatabaseTarget) -> dict[str, Fingerprint]:
    """Each table's row count and the sum of a 64-bit hash of each row's text (order does not matter)."""
    found: dict[str, Fingerprint] = {}
    with _connect(target) as conn:
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            for table in tables_of(conn):
                row = conn.execute(
                    sql.SQL("SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0) FROM {} AS t").format(
                        sql.Identifier(settings.FLYWAY_SCHEMA, table)
                    )
                ).fetchone()
                assert row is not None
                found[table] = (int(row[0]), int(row[1]))
    return found


def differences(source: dict[str, Fingerprint], copy: dict[str, Fingerprint]) -> list[str]:
    """What differs between two databases' fingerprints, in words (empty when equal)."""
    found = []
    for table in sorted(set(source) | set(copy)):
        if table not in copy:
            found.append(f"{table}: missing in the copy")
        elif table not in source:
            found.append(f"{table}: only in the copy")
        elif source[table][0] != copy[table][0]:
            found.append(f"{table}: {source[table][0]} rows, the copy has {copy[table][0]}")
        elif source[table] != copy[table]:
            found.append(f"{table}: {source[table][0]} rows whose contents differ")
    return found


# --- who is still working on the source ---


def busy_sessions(source: DatabaseTarget, role: str) -> int:
    """The role's sessions on the source database that are in a transaction or running a query.

    Read from the locks each transaction holds on its own id (``pg_locks`` shows every session's),
    since ``pg_stat_activity`` hides another role's ``state`` from an administrator who is no superuser.
    """
    with admin_connect(source) as conn:
        return int(
            _one(
                conn,
                "SELECT count(*) FROM pg_stat_activity a WHERE a.usename = %s AND a.datname = %s AND EXISTS"
                " (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'virtualxid' AND l.granted)",
                [role, source.name],
            )
        )
