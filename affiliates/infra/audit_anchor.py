"""The audit chain's head, shipped to S3 under Object Lock: an anchor outside the database.

A database superuser (or the table's owner) can edit a record and recompute every hash after it
and the head: the chain alone then verifies. Each shipped head is an object whose key says the
chain's place and hash there (``audit-chain/heads/<chain_seq, 20 digits>-<row_hash>``), written
with Object Lock in COMPLIANCE mode for ``AUDIT_ANCHOR_RETENTION_DAYS``: nobody, the bucket's
owner included, can delete or overwrite it before then. ``anchors_check`` compares every head ever
shipped (every version, listed with ``list_object_versions``, so a delete marker hides nothing)
with the chain as it is now: a record rewritten, or cut from the end, after a head covering it
was shipped no longer matches.

Set ``FITBUDDY_AUDIT_ANCHOR_BUCKET`` to a bucket created with Object Lock enabled; the beat task
``affiliates.tasks.audit_head_ship_task`` ships the head every ``AUDIT_ANCHOR_EVERY_SECONDS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from psycopg import sql

from affiliates.audit.chain import GENESIS, ChainBreak, Cursor
from affiliates.errors import OperationError
from affiliates.infra.backups import s3_client
from affiliates.models import StaffAuditChainHead

PREFIX = "audit-chain/heads/"
KEY_RE = re.compile(r"^audit-chain/heads/(\d{20})-([0-9a-f]{64})$")


@dataclass(frozen=True)
class Anchor:
    """A head as shipped: the chain's place and its hash there, and when S3 stored it."""

    chain_seq: int
    row_hash: str
    shipped_at: datetime | None = None

    @property
    def key(self) -> str:
        return f"{PREFIX}{self.chain_seq:020d}-{self.row_hash}"


def bucket() -> str:
    """The anchor bucket; OperationError when none is set."""
    if not settings.AUDIT_ANCHOR_BUCKET:
        raise OperationError("no audit anchor bucket: set FITBUDDY_AUDIT_ANCHOR_BUCKET")
    return str(settings.AUDIT_ANCHOR_BUCKET)


def bucket_locked(s3: Any, name: str) -> None:
    """Refuse a bucket without Object Lock: a head there could be deleted, and would prove nothing."""
    try:
        config = s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"]
    except s3.exceptions.ClientError as exc:
        raise OperationError(f"bucket {name} has no Object Lock configuration: {exc}") from exc
    if config.get("ObjectLockEnabled") != "Enabled":
        raise OperationError(f"bucket {name} does not have Object Lock enabled")


def head_ship(s3: Any = None) -> Anchor:
    """Ship the chain's committed head (once per head: a head already shipped is not written again)."""
    name, s3 = bucket(), s3 or s3_client()
    bucket_locked(s3, name)
    head = StaffAuditChainHead.objects.get()
    anchor = Anchor(head.chain_seq, head.row_hash)
    existing = s3.list_objects_v2(Bucket=name, Prefix=anchor.key, MaxKeys=1).get("KeyCount", 0)
    if not existing:
        s3.put_object(
            Bucket=name,
            Key=anchor.key,
            Body=b"",
            ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=datetime.now(UTC) + timedelta(days=settings.AUDIT_ANCHOR_RETENTION_DAYS),
        )
    return anchor


def anchors_read(s3: Any = None) -> list[Anchor]:
    """Every head ever shipped, every version included, in chain order."""
    name, s3 = bucket(), s3 or s3_client()
    anchors: set[Anchor] = set()
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name, Prefix=PREFIX):
        for version in page.get("Versions", []):
            match = KEY_RE.match(version["Key"])
            if match is None:
                raise OperationError(f"s3://{name}/{version['Key']} is not a shipped head: someone wrote it by hand")
            anchors.add(Anchor(int(match[1]), match[2], version["LastModified"]))
    return sorted(anchors, key=lambda a: (a.chain_seq, a.row_hash))


def anchors_check(cursor: Cursor, anchors: list[Anchor]) -> list[ChainBreak]:
    """Each shipped head against the chain now: the record at its place must still have its hash."""
    wanted = sorted({a.chain_seq for a in anchors if a.chain_seq > 0})
    query = sql.SQL("SELECT chain_seq, id, row_hash FROM {}.staff_audit WHERE chain_seq = ANY(%s)").format(
        sql.Identifier(settings.FLYWAY_SCHEMA)
    )
    cursor.execute(query.as_string(cursor.connection), [wanted])
    found = {int(seq): (int(pk), str(stored)) for seq, pk, stored in cursor.fetchall()}
    breaks = []
    for anchor in anchors:
        when = f"shipped {anchor.shipped_at:%Y-%m-%d %H:%M:%S} UTC" if anchor.shipped_at else "shipped"
        if anchor.chain_seq == 0:
            if anchor.row_hash != GENESIS:
                breaks.append(ChainBreak(None, 0, (f"the anchor {when} for #0 is not the chain's start",)))
            continue
        pk, stored = found.get(anchor.chain_seq, (None, None))
        if stored is None:
            reason = f"the anchor {when} says the chain reached #{anchor.chain_seq}; that record is gone"
            breaks.append(ChainBreak(None, anchor.chain_seq, (reason,)))
        elif stored != anchor.row_hash:
            reason = (
                f"the anchor {when} says its hash was {anchor.row_hash[:12]}…, it is {stored[:12]}… now:"
                " the chain up to here was rewritten after that head was shipped"
            )
            breaks.append(ChainBreak(pk, anchor.chain_seq, (reason,)))
    return breaks
