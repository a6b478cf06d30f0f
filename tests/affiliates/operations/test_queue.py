"""The task queue failing: a fast one-line error, nothing stranded, the reconciler, Redis' append-only file."""

from __future__ import annotations

import datetime
import io
import subprocess
import time

import pytest
from django.core.management import call_command
from django.utils import timezone

from affiliates.infra import locks
from affiliates.models import Affiliate, AffiliateEvent, MigrationRun, StaffAudit
from affiliates.operations import fleet, reconcile
from tests.conftest import celery_beat, manage, wait_for
from tests.factories import affiliate_provisioned, affiliate_requested, new_slug

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.worker
def test_with_redis_down_provisioning_fails_in_one_line_and_beat_provisions_it_once_redis_is_back(
    own_redis, worker_factory
):
    slug = new_slug()
    started = time.monotonic()
    done = manage(
        "provision_affiliate", slug, "--name", "Northside", "--domain", f"{slug}.localhost", "--wait",
        env={"REDIS_URL": own_redis.url},
    )  # fmt: skip
    print(f"provision_affiliate with Redis down answered in {time.monotonic() - started:.1f} s")

    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr  # one line, no traceback, no reconnect chatter
    assert f"redis://localhost:{own_redis.port}/0 cannot be reached" in lines[0]
    assert "reconciler queues it once the queue is back" in lines[0]
    affiliate = Affiliate.objects.get(schema_name=slug)
    assert affiliate.status == "requested" and affiliate.status_detail.startswith("not queued yet")
    failed = AffiliateEvent.objects.get(affiliate=affiliate, step="enqueue")
    assert failed.outcome == "failed" and own_redis.url in failed.error

    own_redis.start()
    worker_factory(REDIS_URL=own_redis.url, RECONCILE_AFTER_SECONDS="1")  # the task runs here, with its settings
    with celery_beat(REDIS_URL=own_redis.url, RECONCILE_EVERY_SECONDS="0.5"):
        wait_for(lambda: Affiliate.objects.get(pk=affiliate.pk).status == "active", what="the reconciler")
    requeued = AffiliateEvent.objects.get(affiliate=affiliate, step="requeued")
    assert requeued.requested_by == "reconciler" and "requested" in requeued.detail


@pytest.mark.flyway
@pytest.mark.worker
def test_lost_messages_are_found_and_queued_again_and_held_or_recent_work_is_left_alone(worker):
    lost = affiliate_requested()  # registered, but its message never reached the queue
    gym = affiliate_provisioned()
    run = fleet.run_create(MigrationRun.Kind.CHECK, [gym], started_by="pytest", channel="command", enqueue=False)
    held = affiliate_requested()

    # Recent work is not stuck: the default wait (RECONCILE_AFTER_SECONDS) has not passed.
    assert reconcile.stuck_find() == []
    with locks.affiliate_lock(held.pk) as acquired:
        assert acquired
        stuck = {(item.kind, item.label) for item in reconcile.stuck_find(older_than=0)}
    assert stuck == {("affiliate", lost.slug), ("run", str(run.pk))}  # the held one is being worked on

    out = io.StringIO()
    call_command("reconcile_affiliates", "--older-than", "0", "--dry-run", stdout=out)
    assert f"affiliate {lost.slug}: requested" in out.getvalue() and "--dry-run" in out.getvalue()
    assert not AffiliateEvent.objects.filter(step="requeued").exists()

    with locks.affiliate_lock(held.pk):
        out = io.StringIO()
        call_command("reconcile_affiliates", "--older-than", "0", stdout=out)
    assert "2 queued again" in out.getvalue()
    wait_for(lambda: Affiliate.objects.get(pk=lost.pk).status == "active", what="the lost affiliate")
    wait_for(lambda: MigrationRun.objects.get(pk=run.pk).finished, what="the lost run")
    assert MigrationRun.objects.get(pk=run.pk).status == "succeeded"
    assert Affiliate.objects.get(pk=held.pk).status == "requested"


@pytest.mark.worker
def test_the_reconciler_queues_an_item_once_per_interval(worker_factory, settings):
    """With no worker to take it, a stuck affiliate is not queued again on every pass."""
    settings.RECONCILE_AFTER_SECONDS = 60
    lost = affiliate_requested()
    Affiliate.objects.filter(pk=lost.pk).update(updated_at=timezone.now() - datetime.timedelta(minutes=5))

    assert [item.label for item in reconcile.reconcile()] == [lost.slug]
    Affiliate.objects.filter(pk=lost.pk).update(updated_at=timezone.now() - datetime.timedelta(minutes=5))
    assert reconcile.reconcile() == []  # queued a moment ago: its message is still on the queue
    assert AffiliateEvent.objects.filter(affiliate=lost, step="requeued").count() == 1
    worker_factory()
    wait_for(lambda: Affiliate.objects.get(pk=lost.pk).status == "active", what="the queued message")


def test_reconcile_affiliates_refuses_a_negative_wait():
    with pytest.raises(Exception, match="--older-than must be 0 or more"):
        call_command("reconcile_affiliates", "--older-than", "-1")


def test_redis_keeps_queued_work_across_a_restart(own_redis):
    """tools/redis.sh runs Redis with an append-only file: what was queued survives a restart."""
    own_redis.start()
    cli = ["redis-cli", "-p", str(own_redis.port)]
    assert subprocess.run([*cli, "CONFIG", "GET", "appendonly"], capture_output=True, text=True).stdout.split()[1] == (
        "yes"
    )
    subprocess.run([*cli, "LPUSH", "celery", "a queued task"], check=True, capture_output=True)
    own_redis.stop()
    own_redis.start()
    kept = subprocess.run([*cli, "LRANGE", "celery", "0", "-1"], capture_output=True, text=True).stdout
    assert "a queued task" in kept


@pytest.mark.flyway
@pytest.mark.worker
def test_a_migration_run_recorded_while_redis_is_down_says_so_and_is_started_later(own_redis, worker_factory):
    gym = affiliate_provisioned()
    done = manage("migrate_affiliates", "--affiliate", gym.slug, env={"REDIS_URL": own_redis.url})

    assert done.returncode == 1
    assert "cannot be reached" in done.stderr and "the reconciler queues it" in done.stderr
    run = MigrationRun.objects.get()
    assert run.status == "pending"
    assert StaffAudit.objects.filter(target=f"run {run.pk}", outcome="started").exists()

    own_redis.start()
    worker_factory(REDIS_URL=own_redis.url)
    done = manage("reconcile_affiliates", "--older-than", "0", env={"REDIS_URL": own_redis.url})
    assert done.returncode == 0 and f"run {run.pk}: pending" in done.stdout
    wait_for(lambda: MigrationRun.objects.get(pk=run.pk).status == "succeeded", what="the run")
