"""PostgreSQL advisory locks on the management database: one hand on an affiliate at a time.

Session-level locks on a connection of their own: released on exit, and by PostgreSQL when the
holder crashes, so a killed worker never leaves a lock behind.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager

import psycopg

from affiliates.errors import AffiliateBusy
from affiliates.infra.targets import CONNECT_TIMEOUT, management_target
from affiliates.models import Affiliate


def _key(name: str) -> int:
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


#: One affiliate's database: provisioning, suspend/resume, archive and fleet migrations all take
#: it, so no two of them ever work on the same database at once. (The key's text is historical;
#: changing it would let an old and a new worker hold "the" lock at the same time.)
AFFILIATE = _key("fitbuddy:affiliate-provision")
#: One migration run: only one worker advances a run at a time.
RUN = _key("fitbuddy:migration-run")
#: The provisioning template database, created and migrated by one worker at a time.
TEMPLATE = _key("fitbuddy:template")


@contextmanager
def advisory_lock(key: int, object_id: int, *, wait: bool) -> Iterator[bool]:
    """Hold ``(key, object_id)`` for the block; yields whether it was acquired (always, when waiting)."""
    with psycopg.connect(**management_target().conninfo(), autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
        if wait:
            conn.execute("SELECT pg_advisory_lock(%s, %s)", [key, object_id])
            acquired = True
        else:
            row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", [key, object_id]).fetchone()
            assert row is not None  # a SELECT without FROM answers exactly one row
            acquired = row[0]
        try:
            yield acquired
        finally:
            if acquired and not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", [key, object_id])


def affiliate_lock(affiliate_id: int, *, wait: bool = False) -> AbstractContextManager[bool]:
    """The lock on one affiliate's database."""
    return advisory_lock(AFFILIATE, affiliate_id, wait=wait)


@contextmanager
def affiliate_held(affiliate_id: int, action: str) -> Iterator[None]:
    """Hold the affiliate's lock for an operation, or raise AffiliateBusy saying who may try again."""
    with affiliate_lock(affiliate_id) as acquired:
        if not acquired:
            slug = Affiliate.objects.filter(pk=affiliate_id).values_list("schema_name", flat=True).first()
            raise AffiliateBusy(
                f"{slug or affiliate_id} is busy (being provisioned, migrated or archived); "
                f"{action} it again in a moment"
            )
        yield


def template_lock() -> AbstractContextManager[bool]:
    """The lock on the provisioning template (waits for the holder)."""
    return advisory_lock(TEMPLATE, 0, wait=True)


def run_lock(run_id: int) -> AbstractContextManager[bool]:
    """The lock on one migration run (not waiting: a run is advanced by one worker at a time)."""
    return advisory_lock(RUN, run_id, wait=False)


class AffiliateLocks:
    """Many affiliates' locks on one connection (a fleet wave holds hundreds: one connection, not hundreds)."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn
        self.held: set[int] = set()

    def try_acquire(self, affiliate_ids: Iterable[int]) -> set[int]:
        """Take every free lock among ``affiliate_ids`` at once; returns the ids now held."""
        ids = [i for i in affiliate_ids if i not in self.held]
        if ids:
            rows = self.conn.execute(
                "SELECT id FROM unnest(%s::int[]) AS id WHERE pg_try_advisory_lock(%s::int, id)", [ids, AFFILIATE]
            ).fetchall()
            self.held.update(row[0] for row in rows)
        return self.held.intersection(affiliate_ids)

    def wait_for(self, affiliate_id: int, *, seconds: float) -> bool:
        """Wait up to ``seconds`` for one affiliate's lock; whether it is now held."""
        if affiliate_id in self.held:
            return True
        try:
            with self.conn.transaction():
                self.conn.execute("SELECT set_config('lock_timeout', %s, true)", [f"{int(seconds * 1000)}ms"])
                self.conn.execute("SELECT pg_advisory_lock(%s::int, %s::int)", [AFFILIATE, affiliate_id])
        except psycopg.errors.LockNotAvailable:
            return False
        self.held.add(affiliate_id)
        return True

    def release(self, affiliate_ids: Iterable[int]) -> None:
        for affiliate_id in set(affiliate_ids) & self.held:
            self.conn.execute("SELECT pg_advisory_unlock(%s::int, %s::int)", [AFFILIATE, affiliate_id])
            self.held.discard(affiliate_id)


@contextmanager
def affiliate_locks() -> Iterator[AffiliateLocks]:
    """A connection for holding many affiliates' locks; all are released when the block ends."""
    with psycopg.connect(**management_target().conninfo(), autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
        locks = AffiliateLocks(conn)
        try:
            yield locks
        finally:
            if not conn.closed:
                conn.execute("SELECT pg_advisory_unlock_all()")
