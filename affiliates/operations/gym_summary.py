"""What support sees of a gym at a glance: its members, its last activity, its size and its last backup.

Read on the gym's page in the command center, one gym at a time: a few cheap queries on the gym's
own database (as its own role) and the registry's history. A gym that cannot be read (not active, its
server away) says why instead of failing the page.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import DatabaseError, connections

from affiliates.models import Affiliate, AffiliateBackup, AffiliateLoad
from affiliates.routing.connections import alias_for
from affiliates.routing.context import affiliate_context


@dataclass(frozen=True)
class GymSummary:
    """A gym's figures; ``unavailable`` says why they could not be read (then the numbers are None)."""

    active_members: int | None = None
    logins: int | None = None
    last_activity: datetime.datetime | None = None
    size_bytes: int | None = None
    unavailable: str = ""


#: The gym's figures in one statement: members, logins, the newest result or login, the database's size.
SUMMARY_SQL = """
SELECT (SELECT count(*) FROM member WHERE is_active),
       (SELECT count(*) FROM gym_login WHERE is_active),
       GREATEST((SELECT max(updated_at) FROM participation), (SELECT max(last_login) FROM gym_login)),
       pg_database_size(current_database())
"""


def gym_summary(affiliate: Affiliate) -> GymSummary:
    """The gym's figures, read from its own database."""
    if affiliate.status != Affiliate.Status.ACTIVE:
        return GymSummary(unavailable=f"the gym is {affiliate.get_status_display().lower()}")
    try:
        with affiliate_context(affiliate):
            with connections[alias_for(affiliate)].cursor() as cursor:
                cursor.execute(SUMMARY_SQL)
                members, logins, last_activity, size = cursor.fetchone()
    except DatabaseError as exc:
        return GymSummary(unavailable=f"its database could not be read ({exc.__class__.__name__})")
    return GymSummary(active_members=members, logins=logins, last_activity=last_activity, size_bytes=size)


def last_backup(affiliate: Affiliate) -> datetime.datetime | None:
    """When the gym's newest good backup still kept was taken (nightly, by hand, or before an archive)."""
    return (
        AffiliateBackup.objects.filter(
            affiliate=affiliate, outcome=AffiliateBackup.Outcome.SUCCEEDED, pruned_at__isnull=True
        )
        .order_by("-taken_at")
        .values_list("taken_at", flat=True)
        .first()
    )


def _when(moment: datetime.datetime | None, none: str) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else none


def load_text(affiliate: Affiliate) -> str:
    """The gym's latest load reading (``operations/load.py``) in words, or "" when it was never read."""
    reading = AffiliateLoad.objects.filter(affiliate=affiliate).first()
    if reading is None:
        return ""
    parts = []
    if reading.size_bytes is not None:
        parts.append(f"database {reading.size_bytes / 1_000_000:.1f} MB")
    parts.append(f"{reading.connections} connection{'' if reading.connections == 1 else 's'}")
    if reading.xacts_per_day is not None:
        parts.append(f"{reading.xacts_per_day:,.0f} transactions/day")
    return " · ".join(parts) + f" (read {_when(reading.read_at, '')})"


def summary_line(affiliate: Affiliate) -> str:
    """The gym at a glance, in one line for its page in the command center. Its size, connections and
    transactions/day come from the load collector's latest reading when there is one."""
    summary = gym_summary(affiliate)
    backup = f"last backup: {_when(last_backup(affiliate), 'none recorded')}"
    load = load_text(affiliate)
    if summary.unavailable:
        return " · ".join(part for part in (summary.unavailable, load, backup) if part)
    members, logins = summary.active_members or 0, summary.logins or 0
    size = load or f"database {(summary.size_bytes or 0) / 1_000_000:.1f} MB"
    return (
        f"{members} active member{'' if members == 1 else 's'} · {logins} login{'' if logins == 1 else 's'}"
        f" · last activity {_when(summary.last_activity, 'none yet')}"
        f" · {size} · {backup}"
    )
