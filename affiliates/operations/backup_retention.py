"""Retention of gym backups (grandfather-father-son): how long each tier is kept, and pruning.

Each backup got its tier when it was taken (``backup_records.tier_for``). A backup is kept while
it is younger than its tier's age limit:

    daily    BACKUP_KEEP_DAILY days              (7: a week of nightly backups)
    weekly   BACKUP_KEEP_WEEKLY × 7 days         (28: four weekly backups)
    monthly  BACKUP_KEEP_MONTHLY × 31 days       (372: a year of monthly backups)
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
        Tier.MONTHLY: settings.BACKUP_KEEP_MONTHLY * 31,
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


def _newest_ids() -> set[int]:
    """Each gym's newest good backup still kept."""
    newest = (
        AffiliateBackup.objects.filter(outcome=AffiliateBackup.Outcome.SUCCEEDED, pruned_at__isnull=True)
        .order_by("affiliate_id", "-taken_at", "-id")
        .distinct("affiliate_id")
    )
    return set(newest.values_list("id", flat=True))


def expired(backup: AffiliateBackup, now: datetime.datetime) -> bool:
    """Older than its tier keeps (an archive backup never is)."""
    days = keep_days().get(backup.tier)
    return days is not None and backup.taken_at <= now - datetime.timedelta(days=days)


def prune(*, now: datetime.datetime | None = None, dry_run: bool = False) -> PruneReport:
    """Apply retention to every gym's backups (see the module's docstring); what was done."""
    now = now or timezone.now()
    report = PruneReport()
    newest = _newest_ids()
    kept = AffiliateBackup.objects.filter(outcome=AffiliateBackup.Outcome.SUCCEEDED, pruned_at__isnull=True)
    rows = list(kept.select_related("affiliate").order_by("taken_at", "id"))
    s3_rows = [row for row in rows if backups.s3_location_key(row.location)]
    folder_rows = [row for row in rows if not backups.s3_location_key(row.location)]
    _prune_folder(folder_rows, newest, now, dry_run, report)
    _prune_s3(s3_rows, newest, now, dry_run, report)
    report.kept = len(rows) - len(report.deleted) - len(report.gone)
    return report


def _name(row: AffiliateBackup) -> str:
    return f"{row.affiliate.slug}: {row.location}"


def _prune_folder(
    rows: Iterable[AffiliateBackup], newest: set[int], now: datetime.datetime, dry_run: bool, report: PruneReport
) -> None:
    for row in rows:
        if row.pk in newest or not expired(row, now):
            continue
        report.deleted.append(_name(row))
        if not dry_run:
            backups.backup_delete(row.location)
            AffiliateBackup.objects.filter(pk=row.pk).update(pruned_at=now)


def _prune_s3(
    rows: list[AffiliateBackup], newest: set[int], now: datetime.datetime, dry_run: bool, report: PruneReport
) -> None:
    present: dict[str, set[str]] = {}
    for row in rows:
        bucket, key = backups.s3_location_key(row.location) or ("", "")
        if bucket not in present:
            present[bucket] = backups.s3_keys(bucket)
        if key not in present[bucket]:  # expired by the bucket's lifecycle rules (or deleted by hand)
            report.gone.append(_name(row))
            if not dry_run:
                AffiliateBackup.objects.filter(pk=row.pk).update(pruned_at=now)
            continue
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
