"""Nightly backups: slots spread over the window per server, only due gyms queued and only once, a
pass that backs up every active gym, and a lost message that converges on the next tick."""

from __future__ import annotations

import base64
import datetime
import io
import json
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from affiliates.infra import queue
from affiliates.models import Affiliate, AffiliateBackup, DatabaseServer
from affiliates.operations import nightly_backups
from fitbuddy.celery import app as celery_app
from tests.conftest import celery_beat, wait_for
from tests.factories import affiliate_requested

pytestmark = pytest.mark.django_db(transaction=True)

TUESDAY_3AM = datetime.datetime(2026, 3, 10, 3, 0, tzinfo=datetime.UTC)


def queued_backups() -> list[int]:
    """The gyms whose backup task waits in the broker's queue (read from Redis itself)."""
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    ids = []
    for raw in broker.lrange("celery", 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] == queue.BACKUP:
            ids.append(json.loads(base64.b64decode(message["body"]))[0][0])
    return sorted(ids)


def registered(status: str, server: DatabaseServer | None = None) -> Affiliate:
    affiliate = affiliate_requested()
    Affiliate.objects.filter(pk=affiliate.pk).update(status=status, **({"database_server": server} if server else {}))
    return Affiliate.objects.get(pk=affiliate.pk)


@pytest.fixture
def empty_queue(clean_registry):
    celery_app.control.purge()
    yield
    celery_app.control.purge()


def test_slots_spread_over_the_window_per_server_and_only_due_gyms_are_queued_once(empty_queue, settings):
    settings.BACKUP_WINDOW_START_HOUR, settings.BACKUP_WINDOW_HOURS = 1, 4
    first = [registered("active") for _ in range(4)]
    second = [registered("active") for _ in range(2)]
    registered("suspended")
    registered("archived")
    other = DatabaseServer.objects.create(name="other", host="db2.internal", port=5432)  # registered, never reached
    Affiliate.objects.filter(pk__in=[a.pk for a in second]).update(database_server=other)

    window = nightly_backups.window_for(TUESDAY_3AM)
    assert (window.start.hour, window.end.hour) == (1, 5)
    assert nightly_backups.window_for(TUESDAY_3AM.replace(hour=0)).start.day == 9  # before 01:00: last night's
    slots = nightly_backups.slots(window)
    assert set(slots) == {a.pk for a in first + second}  # suspended and archived gyms have no slot
    hour = datetime.timedelta(hours=1)
    assert sorted(slots[a.pk] - window.start for a in first) == [0 * hour, 1 * hour, 2 * hour, 3 * hour]
    assert sorted(slots[a.pk] - window.start for a in second) == [0 * hour, 2 * hour]

    # At 03:00 the first three of the first server and both of the second are due; one was backed up already.
    done = min((a for a in first), key=lambda a: slots[a.pk])
    AffiliateBackup.objects.create(
        affiliate=done, kind="nightly", outcome="succeeded", location="/x", sha256="ab", taken_at=window.start
    )
    expected = sorted(a.pk for a in first + second if slots[a.pk] <= TUESDAY_3AM and a != done)
    assert len(expected) == 4
    assert nightly_backups.schedule_tick(TUESDAY_3AM) == expected
    assert queued_backups() == expected
    assert nightly_backups.schedule_tick(TUESDAY_3AM) == []  # queued within the key's lifetime: not again
    assert queued_backups() == expected
    assert nightly_backups.schedule_tick(TUESDAY_3AM.replace(hour=6)) == []  # the window has closed


def test_backups_nightly_now_backs_up_every_active_gym_and_skips_the_others(gyms, settings, tmp_path):
    settings.BACKUP_DIR = tmp_path
    suspended = registered("suspended", gyms.a.database_server)
    archived = registered("archived")
    broken = registered("active", gyms.a.database_server)  # registered active, but its database is gone
    out = io.StringIO()
    with pytest.raises(CommandError, match=f"1 backup\\(s\\) failed: {broken.slug}"):
        call_command("backups_nightly", "--now", stdout=out)
    assert f"{gyms.a.slug}: taken" in out.getvalue() and f"{gyms.b.slug}: taken" in out.getvalue()
    assert "2 backed up, 1 failed" in out.getvalue()

    for gym in (gyms.a, gyms.b):
        backup = AffiliateBackup.objects.get(affiliate=gym)
        assert (backup.kind, backup.outcome, backup.tier) == ("nightly", "succeeded", "monthly")
        assert Path(backup.location).is_file() and backup.size_bytes == Path(backup.location).stat().st_size
        assert backup.schema_version == gyms.a.schema_version
    failure = AffiliateBackup.objects.get(affiliate=broken)
    assert failure.outcome == "failed" and broken.database_name in failure.error
    assert not AffiliateBackup.objects.filter(affiliate__in=[suspended, archived]).exists()

    Affiliate.objects.filter(pk=broken.pk).update(status="archived")
    again = io.StringIO()
    call_command("backups_nightly", "--now", stdout=again)  # tonight's backups are there: nothing to do
    assert "No gym is due a backup now" in again.getvalue()
    assert AffiliateBackup.objects.filter(outcome="succeeded").count() == 2


@pytest.mark.worker
def test_a_lost_message_is_queued_again_on_a_later_tick_and_the_worker_backs_the_gym_up(
    gyms, settings, tmp_path, worker_factory
):
    now = timezone.now()
    settings.BACKUP_WINDOW_START_HOUR, settings.BACKUP_WINDOW_HOURS = now.hour, 1
    Affiliate.objects.filter(pk=gyms.b.pk).update(status="suspended")
    window = nightly_backups.window_for(now)
    assert nightly_backups.schedule_tick(now) == [gyms.a.pk]
    celery_app.control.purge()  # the message is lost (Redis lost it, or a worker took it and crashed)
    assert nightly_backups.schedule_tick(now) == []  # queued recently: the key still says so
    cache.delete(nightly_backups.queued_key(gyms.a.pk, window))  # the key's lifetime ends

    worker_factory(FITBUDDY_BACKUP_DIR=str(tmp_path))
    assert nightly_backups.schedule_tick(now) == [gyms.a.pk]
    backup = wait_for(
        lambda: AffiliateBackup.objects.filter(affiliate=gyms.a, outcome="succeeded").first(), what="the backup"
    )
    assert Path(backup.location).parent == tmp_path and backup.kind == "nightly"

    # The same message delivered twice: tonight's backup is there, so the task does nothing.
    task_id = queue.send(queue.BACKUP, gyms.a.pk, "nightly", "schedule")
    assert celery_app.AsyncResult(task_id).get(timeout=60) == {"affiliate_id": gyms.a.pk, "status": "done"}
    assert AffiliateBackup.objects.filter(affiliate=gyms.a).count() == 1
    cache.delete(nightly_backups.queued_key(gyms.a.pk, window))
    assert nightly_backups.schedule_tick(now) == []  # backed up tonight: no longer due


@pytest.mark.worker
def test_beat_queues_tonights_backups_and_the_worker_takes_each_gym_once(gyms, tmp_path, worker_factory):
    now = timezone.now()
    # A two-hour window that opened an hour before this hour: both gyms' slots (:00 and +1 h) have passed.
    env = {
        "BACKUP_WINDOW_START_HOUR": str((now.hour - 1) % 24),
        "BACKUP_WINDOW_HOURS": "2",
        "BACKUP_SCHEDULE_EVERY_SECONDS": "0.5",
        "FITBUDDY_BACKUP_DIR": str(tmp_path),
    }
    worker_factory(**env)
    with celery_beat(**env):
        wait_for(lambda: AffiliateBackup.objects.filter(outcome="succeeded").count() == 2, what="both gyms backed up")
        time.sleep(2)  # a few more ticks: nothing is queued again
    backups = AffiliateBackup.objects.order_by("affiliate_id")
    assert [(b.affiliate_id, b.kind, b.outcome) for b in backups] == [
        (gyms.a.pk, "nightly", "succeeded"),
        (gyms.b.pk, "nightly", "succeeded"),
    ]
    assert all(Path(b.location).parent == tmp_path for b in backups)
