"""Retention: tiers given as backups are taken, the folder pruned to exactly the policy's set, and in
S3 lifecycle rules by tier tag, tagged objects, expired objects marked, a gym's newest pinned."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from affiliates.infra import backups
from affiliates.models import Affiliate, AffiliateBackup
from affiliates.operations import backup_records, backup_retention, gym_summary, lifecycle
from tests.factories import affiliate_requested

pytestmark = pytest.mark.django_db(transaction=True)

BUCKET = "fitbuddy-test-retention"


def nightly_history(affiliate, folder: Path, days: int, now: datetime.datetime) -> list[AffiliateBackup]:
    """A backup every night at 02:30 for ``days`` nights up to now, each file real, tiers given as when taken."""
    made = []
    for age in range(days - 1, -1, -1):
        taken = (now - datetime.timedelta(days=age)).replace(hour=2, minute=30)
        if taken > now:
            continue  # tonight's is still to come
        path = folder / f"{affiliate.slug}-{taken:%Y%m%d}.dump"
        path.write_bytes(b"dump")
        tier = backup_records.tier_for(affiliate.pk, "nightly", taken)
        made.append(
            AffiliateBackup.objects.create(
                affiliate=affiliate,
                kind="nightly",
                outcome="succeeded",
                tier=tier,
                location=str(path),
                sha256="00",
                size_bytes=4,
                taken_at=taken,
            )  # fmt: skip
        )
    return made


def test_prune_keeps_exactly_seven_daily_four_weekly_twelve_monthly_the_newest_and_archives(
    clean_registry, settings, tmp_path
):
    settings.BACKUP_KEEP_DAILY, settings.BACKUP_KEEP_WEEKLY, settings.BACKUP_KEEP_MONTHLY = 7, 4, 12
    now = timezone.now()
    gym = affiliate_requested()
    history = nightly_history(gym, tmp_path, 420, now)
    monthly = [b for b in history if b.tier == "monthly"]
    weekly = [b for b in history if b.tier == "weekly"]
    # The first backup ever, then the first of each month.
    firsts = [b for b in history[1:] if b.taken_at.day == 1]
    assert monthly == [history[0], *firsts] and len(firsts) >= 13
    assert all(b.taken_at.weekday() == 0 for b in weekly)  # the first of each ISO week (not a 1st)
    # A gym whose backups stopped a month ago keeps its newest; an archive backup is never pruned.
    quiet = affiliate_requested()
    old = nightly_history(quiet, tmp_path, 40, now)[:-30]
    AffiliateBackup.objects.filter(affiliate=quiet, pk__gt=old[-1].pk).delete()
    archive_file = tmp_path / "archive.dump"
    archive_file.write_bytes(b"dump")
    archive = AffiliateBackup.objects.create(
        affiliate=quiet, kind="archive", outcome="succeeded", tier="archive", location=str(archive_file),
        sha256="00", taken_at=now - datetime.timedelta(days=900),
    )  # fmt: skip

    dry = io.StringIO()
    report = backup_retention.prune(dry_run=True)
    assert report.deleted and all(Path(b.location).exists() for b in history)
    assert not AffiliateBackup.objects.filter(pruned_at__isnull=False).exists()

    call_command("backups_prune", stdout=dry)
    kept = set(AffiliateBackup.objects.filter(affiliate=gym, pruned_at__isnull=True).values_list("pk", flat=True))
    age = {b.pk: timezone.now() - b.taken_at for b in history}
    day = datetime.timedelta(days=1)
    expected_daily = {b.pk for b in history if age[b.pk] < 7 * day}
    expected_weekly = {b.pk for b in weekly if age[b.pk] < 28 * day}
    expected_monthly = {b.pk for b in monthly if age[b.pk] < 365 * day}
    # Seven nights; four weeks each with its weekly (or the month's first, when a week holds it); twelve months.
    weeks = {b.taken_at.isocalendar()[:2] for b in weekly + monthly if age[b.pk] < 28 * day}
    assert len(expected_daily) == 7 and len(weeks) == 4 and len(expected_monthly) == 12
    assert kept == expected_daily | expected_weekly | expected_monthly
    for backup in history:  # every pruned file is gone, every kept one is there
        assert Path(backup.location).exists() == (backup.pk in kept)
    # The quiet gym: its newest (30 days old, daily), its archive, and its monthly ones; its other dailies go.
    quiet_kept = {old[-1].pk, archive.pk} | {b.pk for b in old if b.tier == "monthly"}
    assert 2 < len(quiet_kept) < len(old)
    assert set(
        AffiliateBackup.objects.filter(affiliate=quiet, pruned_at__isnull=True).values_list("pk", flat=True)
    ) == (quiet_kept)
    assert archive_file.exists() and Path(old[-1].location).exists()
    assert all(Path(b.location).exists() == (b.pk in quiet_kept) for b in old)
    assert f"{len(history) - len(kept) + len(old) + 1 - len(quiet_kept)} pruned" in dry.getvalue()


def test_lifecycle_rules_on_the_bucket_tier_tags_on_objects_expired_marked_newest_pinned(gyms, aws, settings):
    settings.BACKUP_BUCKET = BUCKET
    s3 = backups.s3_client()
    s3.create_bucket(Bucket=BUCKET)
    shown = io.StringIO()
    call_command("backup_lifecycle", "--show", stdout=shown)
    assert f"{BUCKET}: 0 lifecycle rule(s)" in shown.getvalue()
    out = io.StringIO()
    call_command("backup_lifecycle", stdout=out)
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]}
    days = {
        rule["Filter"]["And"]["Tags"][0]["Value"]: rule["Expiration"]["Days"]
        for rule in rules.values()
        if "Expiration" in rule
    }
    assert days == {"daily": 7, "weekly": 28, "monthly": 365}
    assert all(r["Filter"]["And"]["Prefix"] == "affiliates/" for r in rules.values() if "Expiration" in r)
    assert "fitbuddy-backups-daily [Enabled] tier=daily: expire after 7 days" in out.getvalue()

    first = lifecycle.affiliate_backup(slug=gyms.a.slug, requested_by="pytest")
    second = lifecycle.affiliate_backup(slug=gyms.a.slug, requested_by="pytest")

    def tags(location: str) -> dict[str, str]:
        key = backups.s3_location_key(location)[1]
        return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]}

    assert tags(first.location) == {"sha256": first.sha256, "tier": "monthly"}  # the month's first
    assert tags(second.location) == {"sha256": second.sha256, "tier": "daily"}
    records = {r.location: r for r in AffiliateBackup.objects.filter(affiliate=gyms.a)}
    assert records[first.location].kind == "manual" and records[second.location].tier == "daily"

    # The first expired (as the lifecycle rules do); the newest is nearly at its daily limit: pinned.
    s3.delete_object(Bucket=BUCKET, Key=backups.s3_location_key(first.location)[1])
    AffiliateBackup.objects.filter(location=second.location).update(
        taken_at=records[second.location].taken_at - datetime.timedelta(days=6)
    )
    report = backup_retention.prune()
    assert len(report.gone) == 1 and len(report.pinned) == 1 and not report.deleted
    assert AffiliateBackup.objects.get(location=first.location).pruned_at is not None
    assert AffiliateBackup.objects.get(location=second.location).pruned_at is None
    assert tags(second.location)["tier"] == "pinned" and tags(second.location)["sha256"] == second.sha256

    # A newer backup arrives: the old one goes back to its tier, to expire by its rule.
    lifecycle.affiliate_backup(slug=gyms.a.slug, requested_by="pytest")
    report = backup_retention.prune()
    assert len(report.unpinned) == 1 and tags(second.location)["tier"] == "daily"


def test_backups_by_hand_and_before_an_archive_are_recorded_and_the_archive_is_never_pruned(gyms, settings, tmp_path):
    settings.BACKUP_DIR = tmp_path
    lifecycle.affiliate_backup(slug=gyms.b.slug, requested_by="pytest")
    lifecycle.affiliate_archive(affiliate_id=gyms.b.pk, requested_by="pytest")
    manual, archive = AffiliateBackup.objects.filter(affiliate=gyms.b).order_by("taken_at")
    assert (manual.kind, manual.tier, manual.requested_by) == ("manual", "monthly", "pytest")
    assert (archive.kind, archive.tier, archive.outcome) == ("archive", "archive", "succeeded")
    assert gym_summary.last_backup(Affiliate.objects.get(pk=gyms.b.pk)) == archive.taken_at

    years_later = timezone.now() + datetime.timedelta(days=3 * 365)
    report = backup_retention.prune(now=years_later)
    assert report.deleted == [f"{gyms.b.slug}: {manual.location}"]  # the archive and the newest stay
    assert Path(archive.location).exists() and not Path(manual.location).exists()
