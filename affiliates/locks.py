"""PostgreSQL advisory locks on the management database: one hand on an affiliate at a time.

Session-level locks on a connection of their own: released on exit, and by PostgreSQL when the
holder crashes, so a killed worker never leaves a lock behind.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from .placement import management_target


def _key(name: str) -> int:
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


#: One affiliate's database (provisioning today; every operation that changes the database next).
AFFILIATE = _key("fitbuddy:affiliate-provision")
#: The provisioning template database, created and migrated by one worker at a time.
TEMPLATE = _key("fitbuddy:template")


@contextmanager
def advisory_lock(key: int, object_id: int, *, wait: bool) -> Iterator[bool]:
    """Hold ``(key, object_id)`` for the block; yields whether it was acquired (always, when waiting)."""
    with psycopg.connect(**management_target().conninfo(), autocommit=True, connect_timeout=10) as conn:
        if wait:
            conn.execute("SELECT pg_advisory_lock(%s, %s)", [key, object_id])
            acquired = True
        else:
            acquired = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", [key, object_id]).fetchone()[0]
        try:
            yield acquired
        finally:
            if acquired and not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", [key, object_id])


def affiliate_lock(affiliate_id: int, *, wait: bool = False):
    """The lock on one affiliate's database."""
    return advisory_lock(AFFILIATE, affiliate_id, wait=wait)


def template_lock():
    """The lock on the provisioning template (waits for the holder)."""
    return advisory_lock(TEMPLATE, 0, wait=True)
