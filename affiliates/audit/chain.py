"""The audit trail's hash chain, recomputed outside the database: the canonical serialisation and the walk.

The database computes each row's hash when the row is written (the ``staff_audit_chain`` trigger of
``sql/affiliate_management/V9__audit_chain.sql``); this module computes the same bytes from the
row as it is stored now and walks the chain in order, so an edited, deleted or out-of-order record
is named. The serialisation (docs/security-audit.md):

    b"fitbuddy.staff_audit.v1", then for each field: its UTF-8 byte length in decimal, b":", the
    UTF-8 text, b","; a NULL is b"-,". Fields, in order: chain_seq, id, created_at (UTC,
    ``YYYY-MM-DDTHH:MM:SS.ffffffZ``), actor, channel, action, target, outcome, detail, changes (the
    jsonb as PostgreSQL prints it), prev_hash. The hash is SHA-256, as lower-case hex.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from psycopg import sql

#: The hash before the first record.
GENESIS = "0" * 64
#: The serialisation's name and version: the first bytes hashed.
DOMAIN = b"fitbuddy.staff_audit.v1"
#: Records read per query while walking the chain.
BATCH = 2000


class Cursor(Protocol):
    """A DB-API cursor (Django's or psycopg's) whose ``connection`` is a psycopg connection."""

    connection: Any

    def execute(self, query: str, params: Any = ...) -> Any: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...


@dataclass(frozen=True)
class ChainRow:
    """A record as the chain covers it (``changes`` as PostgreSQL prints the jsonb, or None)."""

    id: int
    chain_seq: int
    created_at: datetime.datetime
    actor: str
    channel: str
    action: str
    target: str
    outcome: str
    detail: str
    changes: str | None
    prev_hash: str
    row_hash: str


def timestamp_text(moment: datetime.datetime) -> str:
    """A time as the chain writes it: UTC, microseconds always, e.g. ``2026-01-05T09:30:00.000000Z``."""
    if moment.tzinfo is None:
        raise ValueError("the audit chain hashes only aware times")
    utc = moment.astimezone(datetime.UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
        f".{utc.microsecond:06d}Z"
    )


def _field(value: str | None) -> bytes:
    if value is None:
        return b"-,"
    data = value.encode("utf-8")
    return str(len(data)).encode("ascii") + b":" + data + b","


def serialise(row: ChainRow) -> bytes:
    """The bytes a record's hash covers: its content and the hash of the record before it."""
    fields = (
        str(row.chain_seq),
        str(row.id),
        timestamp_text(row.created_at),
        row.actor,
        row.channel,
        row.action,
        row.target,
        row.outcome,
        row.detail,
        row.changes,
        row.prev_hash,
    )
    return DOMAIN + b"".join(_field(value) for value in fields)


def row_hash(row: ChainRow) -> str:
    """What ``row_hash`` must be for this record."""
    return hashlib.sha256(serialise(row)).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """A place where the chain does not hold: the record (None: the head) and why."""

    record_id: int | None
    chain_seq: int | None
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        where = "head" if self.record_id is None else f"record id={self.record_id} (chain #{self.chain_seq})"
        return f"{where}: {'; '.join(self.reasons)}"


@dataclass
class ChainReport:
    """What a walk of the chain found: how many records, the last one, and every break."""

    checked: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS
    breaks: list[ChainBreak] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.breaks


def _table(name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(settings.FLYWAY_SCHEMA), sql.Identifier(name))


def _rows(cursor: Cursor) -> Iterator[ChainRow]:
    """Every record in chain order, read a batch at a time (by chain_seq, so no cursor stays open)."""
    query = sql.SQL(
        "SELECT id, chain_seq, created_at, actor, channel, action, target, outcome, detail, changes::text,"
        " prev_hash, row_hash FROM {} WHERE chain_seq > %s ORDER BY chain_seq LIMIT %s"
    ).format(_table("staff_audit"))
    text = query.as_string(cursor.connection)
    after = -(2**63)
    while True:
        cursor.execute(text, [after, BATCH])
        batch = cursor.fetchall()
        for values in batch:
            yield ChainRow(*values)
        if len(batch) < BATCH:
            return
        after = batch[-1][1]


def _problems(row: ChainRow, expected_seq: int, previous_hash: str) -> list[str]:
    reasons = []
    if row.chain_seq > expected_seq:
        missing = row.chain_seq - expected_seq
        reasons.append(
            f"chain #{expected_seq}{f'–#{row.chain_seq - 1}' if missing > 1 else ''} before it is missing"
            f" ({missing} record{'s' if missing > 1 else ''} deleted?)"
        )
    elif row.chain_seq < expected_seq:
        reasons.append(f"its place #{row.chain_seq} repeats one already taken (expected #{expected_seq})")
    if row.prev_hash != previous_hash:
        reasons.append(
            f"it does not follow the record before it (prev_hash {row.prev_hash[:12]}…, the record before"
            f" has {previous_hash[:12]}…): a record was deleted, or this one was inserted out of order"
        )
    computed = row_hash(row)
    if computed != row.row_hash:
        reasons.append(
            f"its content does not match its hash (stored {row.row_hash[:12]}…, computed {computed[:12]}…):"
            " it was changed after it was written"
        )
    return reasons


def _head(cursor: Cursor) -> tuple[int, str] | None:
    query = sql.SQL("SELECT chain_seq, row_hash FROM {}").format(_table("staff_audit_chain_head"))
    cursor.execute(query.as_string(cursor.connection))
    rows = cursor.fetchall()
    return (int(rows[0][0]), str(rows[0][1])) if len(rows) == 1 else None


def chain_verify(cursor: Cursor) -> ChainReport:
    """Walk the whole chain: places without gaps, each record linked to the one before, each hash
    recomputed, and the last record where the head says the chain ends. Read in one snapshot (the
    caller's transaction), or records written meanwhile would look like a moved head."""
    report = ChainReport()
    for row in _rows(cursor):
        reasons = _problems(row, report.last_seq + 1, report.last_hash)
        if reasons:
            report.breaks.append(ChainBreak(row.id, row.chain_seq, tuple(reasons)))
        report.checked += 1
        report.last_seq, report.last_hash = row.chain_seq, row.row_hash
    head = _head(cursor)
    if head is None:
        report.breaks.append(ChainBreak(None, None, ("the chain's head row is missing",)))
    elif head != (report.last_seq, report.last_hash):
        head_seq, head_hash = head
        report.breaks.append(
            ChainBreak(
                None,
                head_seq,
                (
                    f"the head says the chain ends at #{head_seq} ({head_hash[:12]}…) but the last record is"
                    f" #{report.last_seq} ({report.last_hash[:12]}…): records at the end were deleted,"
                    " or the head was moved",
                ),
            )
        )
    return report
