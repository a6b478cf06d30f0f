"""Retention of gym backups (grandfather-father-son): how long each tier is kept, and pruning.

Each backup got its tier when it was taken (``backup_records.tier_for``). A backup is kept while
it is younger than its tier's age limit:

    daily    BACKUP_KEEP_DAILY days              (7: a week of nightly backups)
    weekly   BACKUP_KEEP_WEEKLY × 7 days         (28: four weekly backups)
    monthly  BACKUP_KEEP_MONTHLY × 365/12 days   (365: twelve months' first backups)
    archive  never (taken before an archive: the gym's way back)

The same limits hold in both stores. In the backup folder, :func:`prune` deletes the files beyond
them and stamps their records ``pruned_at``. In S3 the bucket's lifecycle rules expire objects by
their ``tier`` tag after those days (:func:`lifecycle_rules`, put by ``manage.py backup_lifecycle``;
S3 rounds an expiry up to the next midnight UTC), and :func:`prune` stamps the records whose
objects are gone.

A gym's newest good backup is never pruned, however old: in the folder it is skipped; in S3 it is
*pinned* (its ``tier`` tag set to ``pinned``, which no rule expires) once it comes within two days
of its limit, and its tag is put back once a newer good backup exists.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone

from affiliates.infra import backups
from affiliates.models import AffiliateBackup

Tier = AffiliateBackup.Tier
#: The S3 ``tier`` tag of a gym's newest good backup while it is at risk of expiring: no rule matches it.
PINNED = "pinned"
#: How close to its limit a newest backup in S3 gets before it is pinned.
PIN_MARGIN = datetime.timedelta(days=2)


def keep_days() -> dict[str, int]:
    """Each prunable tier's age limit in days, from the settings."""
    return {
        Tier.DAILY: settings.BACKUP_KEEP_DAILY,
        Tier.WEEKLY: settings.BACKUP_KEEP_WEEKLY * 7,
        Tier.MONTHLY: round(settings.BACKUP_KEEP_MONTHLY * 365 / 12),
    }


def lifecycle_rules() -> list[dict[str, Any]]:
    """The bucket's lifecycle rules: objects under ``affiliates/`` expire by their tier tag."""
    rules: list[dict[str, Any]] = [
        {
            "ID": f"fitbuddy-backups-{tier}",
            "Status": "Enabled",
            "Filter": {"And": {"Prefix": "affiliates/", "Tags": [{"Key": "tier", "Value": str(tier)}]}},
            "Expiration": {"Days": days},
        }
        for tier, days in keep_days().items()
    ]
    # Parts of an upload that never finished (a worker killed mid-dump) cost money and hold a gym's data.
    rules.append(
        {
            "ID": "fitbuddy-backups-incomplete-uploads",
            "Status": "Enabled",
            "Filter": {"Prefix": "affiliates/"},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        }
    )
    return rules


def lifecycle_apply(bucket: str) -> list[dict[str, Any]]:
    """Put the lifecycle rules on ``bucket`` and read back what S3 holds."""
    backups.lifecycle_put(bucket, lifecycle_rules())
    return backups.lifecycle_get(bucket)


@dataclass
class PruneReport:
    """What a prune did (or, dry, would do): each as ``slug: location``."""

    deleted: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    pinned: list[str] = field(default_factory=list)
    unpinned: list[str] = field(default_factory=list)
    kept: int = 0


def _newest(rows: Iterable[AffiliateBackup]) -> set[int]:
    """Each gym's newest of ``rows`` (ordered oldest first)."""
    return set({row.affiliate_id: row.pk for row in rows}.values())


def expired(backup: AffiliateBackup, now: datetime.datetime) -> bool:
    """Older than its tier keeps (an archive backup never is)."""
    days = keep_days().get(backup.tier)
    return days is not None and backup.taken_at <= now - datetime.timedelta(days=days)


def prune(*, now: datetime.datetime | None = None, dry_run: bool = False) -> PruneReport:
    """Apply retention to every gym's backups (see the module's docstring); what was done."""
    now = now or timezone.now()
    report = PruneReport()
    kept = AffiliateBackup.objects.filter(outcome=AffiliateBackup.Outcome.SUCCEEDED, pruned_at__isnull=True)
    rows = list(kept.select_related("affiliate").order_by("taken_at", "id"))
    present = _s3_gone(rows, now, dry_run, report)  # an object S3 expired is no gym's newest backup
    newest = _newest(present)
    for row in present:
        if backups.s3_location_key(row.location):
            _pin(row, newest, now, dry_run, report)
        elif row.pk not in newest and expired(row, now):
            report.deleted.append(_name(row))
            if not dry_run:
                backups.backup_delete(row.location)
                AffiliateBackup.objects.filter(pk=row.pk).update(pruned_at=now)
    report.kept = len(rows) - len(report.deleted) - len(report.gone)
    return report


def _name(row: AffiliateBackup) -> str:
    return f"{row.affiliate.slug}: {row.location}"


def _s3_gone(
    rows: list[AffiliateBackup], now: datetime.datetime, dry_run: bool, report: PruneReport
) -> list[AffiliateBackup]:
    """Mark the S3 backups whose objects are gone (expired by the lifecycle rules, or deleted by hand); the rest."""
    listed: dict[str, set[str]] = {}
    present = []
    for row in rows:
        place = backups.s3_location_key(row.location)
        if place is None:
            present.append(row)
            continue
        bucket, key = place
        if bucket not in listed:
            listed[bucket] = backups.s3_keys(bucket)
        if key in listed[bucket]:
            present.append(row)
            continue
        report.gone.append(_name(row))
        if not dry_run:
            AffiliateBackup.objects.filter(pk=row.pk).update(pruned_at=now)
    return present


def _pin(row: AffiliateBackup, newest: set[int], now: datetime.datetime, dry_run: bool, report: PruneReport) -> None:
    """Pin a gym's newest S3 backup near its limit; put back the tier of one no longer the newest."""
    days = keep_days().get(row.tier)
    at_risk = days is not None and row.taken_at <= now - datetime.timedelta(days=days) + PIN_MARGIN
    if row.pk in newest and at_risk and not row.pinned:
        report.pinned.append(_name(row))
        if not dry_run:
            backups.s3_tag_set(row.location, "tier", PINNED)
            AffiliateBackup.objects.filter(pk=row.pk).update(pinned=True)
    elif row.pinned and row.pk not in newest:
        report.unpinned.append(_name(row))
        if not dry_run:
            backups.s3_tag_set(row.location, "tier", row.tier)
            AffiliateBackup.objects.filter(pk=row.pk).update(pinned=False)
