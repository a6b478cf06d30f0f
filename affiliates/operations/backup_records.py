"""Every backup of a gym recorded in the registry (``affiliate_backup``): taken or failed, its place,
SHA-256, size, the Flyway version it holds, and its retention tier.

The tier is given when the backup is taken, from the gym's backups before it: the first good backup
of a calendar month (UTC) is *monthly*, the first of an ISO week *weekly*, the others *daily*; a
backup taken before an archive is *archive* and is never pruned. Counting from what was actually
taken (not from the calendar: "the 1st is monthly") means a failed backup on the 1st does not cost
the month its monthly: the next good one is it. S3 objects carry the tier as a tag, which the
bucket's lifecycle rules read (``backup_retention.py``).
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from affiliates.errors import describe
from affiliates.infra import backups, databases
from affiliates.infra.targets import DatabaseTarget
from affiliates.models import Affiliate, AffiliateBackup

Tier = AffiliateBackup.Tier


def tier_for(affiliate_id: int, kind: str, now: datetime.datetime) -> str:
    """The retention tier of a backup of ``affiliate_id`` taken ``now`` (see the module's docstring)."""
    if kind == AffiliateBackup.Kind.ARCHIVE:
        return Tier.ARCHIVE
    now = now.astimezone(datetime.UTC)
    month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    week = (now - datetime.timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    good = AffiliateBackup.objects.filter(
        affiliate_id=affiliate_id, outcome=AffiliateBackup.Outcome.SUCCEEDED, taken_at__lt=now
    ).exclude(tier=Tier.ARCHIVE)
    if not good.filter(taken_at__gte=month).exists():
        return Tier.MONTHLY
    if not good.filter(taken_at__gte=week).exists():
        return Tier.WEEKLY
    return Tier.DAILY


def backup_recorded(
    affiliate: Affiliate, target: DatabaseTarget, *, kind: str, requested_by: str = ""
) -> backups.Backup:
    """Take a checked backup of ``target`` (the gym's database, as its server's administrator) and
    record it; a failure is recorded with its error, then raised."""
    now = timezone.now()
    tier = tier_for(affiliate.pk, kind, now)
    record = AffiliateBackup(
        affiliate_id=affiliate.pk, kind=kind, tier=tier, requested_by=requested_by[:150], taken_at=now
    )
    try:
        version = databases.schema_version(target) or ""
        backup = backups.backup_take(target, label=affiliate.slug, tags={"tier": tier})
    except Exception as exc:
        record.outcome, record.error = AffiliateBackup.Outcome.FAILED, describe(exc)[:4000]
        record.save()
        raise
    record.outcome = AffiliateBackup.Outcome.SUCCEEDED
    record.location, record.sha256, record.size_bytes = backup.location, backup.sha256, backup.size
    record.schema_version = version
    record.save()
    return backup


def last_good(affiliate_id: int) -> AffiliateBackup | None:
    """The gym's newest good backup still kept (not pruned)."""
    return (
        AffiliateBackup.objects.filter(
            affiliate_id=affiliate_id, outcome=AffiliateBackup.Outcome.SUCCEEDED, pruned_at__isnull=True
        )
        .order_by("-taken_at", "-id")
        .first()
    )
