"""Is every gym backed up? A gym's backup state, and the fleet's in a few numbers.

An *active* gym's backup is

- ``ok`` when its last good backup (still kept) is younger than ``BACKUP_LATE_HOURS``;
- ``late`` when it is older;
- ``missing`` when it has none, and has been active longer than ``BACKUP_LATE_HOURS`` (a gym born
  today has had no night yet: ``none yet``).

Suspended and archived gyms are not backed up nightly: they are never late. The command center
shows and filters by this (``affiliates/admin/backups.py``); :func:`backup_overview` gives the
fleet's figures to the metrics endpoint in two queries, whatever the number of gyms.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from affiliates.models import Affiliate, AffiliateBackup, BackupDrill

OK, LATE, MISSING, NONE_YET, NOT_DUE = "ok", "late", "missing", "none yet", "not due"


def late_before(now: datetime.datetime | None = None) -> datetime.datetime:
    """A last good backup taken before this is late."""
    return (now or timezone.now()) - datetime.timedelta(hours=settings.BACKUP_LATE_HOURS)


def with_last_good_backup(affiliates: QuerySet[Affiliate]) -> QuerySet[Affiliate]:
    """``affiliates`` annotated with ``last_good_backup`` (an index read per gym)."""
    newest = AffiliateBackup.objects.filter(
        affiliate=OuterRef("pk"), outcome=AffiliateBackup.Outcome.SUCCEEDED, pruned_at__isnull=True
    ).order_by("-taken_at")
    annotated: QuerySet[Affiliate] = affiliates.annotate(last_good_backup=Subquery(newest.values("taken_at")[:1]))
    return annotated


def filter_state(affiliates: QuerySet[Affiliate], state: str) -> QuerySet[Affiliate]:
    """The gyms of ``affiliates`` whose backup is ``state`` (``ok``, ``late`` or ``missing``)."""
    cutoff = late_before()
    annotated = with_last_good_backup(affiliates).filter(status=Affiliate.Status.ACTIVE)
    if state == LATE:
        return annotated.filter(last_good_backup__lt=cutoff)
    if state == MISSING:
        since = Coalesce("activated_at", "created_at")
        missing: QuerySet[Affiliate] = annotated.alias(since=since).filter(
            last_good_backup__isnull=True, since__lt=cutoff
        )
        return missing
    if state == OK:
        return annotated.filter(Q(last_good_backup__gte=cutoff))
    return affiliates


def state_of(affiliate: Affiliate, last_good: datetime.datetime | None) -> str:
    """One gym's backup state (see the module's docstring)."""
    if affiliate.status != Affiliate.Status.ACTIVE:
        return NOT_DUE
    cutoff = late_before()
    if last_good is None:
        since = affiliate.activated_at or affiliate.created_at
        return MISSING if since is None or since < cutoff else NONE_YET
    return LATE if last_good < cutoff else OK


@dataclass(frozen=True)
class BackupOverview:
    """The fleet's backups in a few bounded numbers (for /metrics)."""

    active_gyms: int
    late: int  # active gyms whose last good backup is older than BACKUP_LATE_HOURS
    missing: int  # active gyms with no good backup, active longer than BACKUP_LATE_HOURS
    oldest_last_good_age_seconds: float | None  # the oldest "last good backup" among active gyms
    last_drill_outcome: str  # succeeded, failed, running, or "" when no drill ever ran
    last_drill_age_seconds: float | None


#: Every active gym's last good backup, and the counts, in one statement (an index read per gym).
OVERVIEW_SQL = """
WITH last AS (
    SELECT a.id, COALESCE(a.activated_at, a.created_at) AS since,
           (SELECT max(b.taken_at) FROM affiliate_backup b
             WHERE b.affiliate_id = a.id AND b.outcome = 'succeeded' AND b.pruned_at IS NULL) AS last_good
      FROM affiliate a
     WHERE a.status = 'active'
)
SELECT count(*),
       count(*) FILTER (WHERE last_good < %(cutoff)s),
       count(*) FILTER (WHERE last_good IS NULL AND since < %(cutoff)s),
       EXTRACT(EPOCH FROM %(now)s - min(last_good))
  FROM last
"""


def backup_overview() -> BackupOverview:
    """The fleet's backup figures: two queries, no loop over gyms."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(OVERVIEW_SQL, {"cutoff": late_before(now), "now": now})
        active, late, missing, oldest = cursor.fetchone()
    drill = BackupDrill.objects.order_by("-started_at", "-id").values_list("outcome", "started_at").first()
    return BackupOverview(
        active_gyms=active,
        late=late,
        missing=missing,
        oldest_last_good_age_seconds=float(oldest) if oldest is not None else None,
        last_drill_outcome=drill[0] if drill else "",
        last_drill_age_seconds=(now - drill[1]).total_seconds() if drill else None,
    )
