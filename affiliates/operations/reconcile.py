"""The reconciler: nothing registered is ever stranded by a lost or unsent message.

An affiliate in a non-terminal provisioning state (requested, database created, migrated, seeded),
a move not finished, or a migration run still pending or running makes progress only while a message for it is on the
queue or a worker holds it. A send that failed (Redis down), a queue lost with Redis, or a worker
killed between two batches leaves it waiting forever. The reconciler finds those — unfinished,
not held by anyone (their advisory lock is free) and untouched for ``RECONCILE_AFTER_SECONDS`` —
and queues them again. It runs as a Celery beat task every ``RECONCILE_EVERY_SECONDS`` and as
``manage.py reconcile_affiliates``.

Queueing again is safe: provisioning and runs are idempotent and take their locks. A Redis key per
item (``cache.add``, expiring after ``RECONCILE_AFTER_SECONDS``) keeps one run from being queued
again every minute while no worker is there to take it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from affiliates.infra import locks
from affiliates.models import Affiliate, AffiliateEvent, AffiliateMove, MigrationRun
from affiliates.operations import fleet, move, provisioning

#: Provisioning states that a worker still has to move on.
UNFINISHED = (
    Affiliate.Status.REQUESTED,
    Affiliate.Status.DATABASE_CREATED,
    Affiliate.Status.MIGRATED,
    Affiliate.Status.SEEDED,
)
RUN_UNFINISHED = (MigrationRun.Status.PENDING, MigrationRun.Status.RUNNING)


@dataclass(frozen=True)
class Stuck:
    kind: str  # "affiliate", "run" or "move"
    id: int
    label: str
    state: str
    since: datetime.datetime

    def describe(self) -> str:
        idle = int((timezone.now() - self.since).total_seconds())
        return f"{self.kind} {self.label}: {self.state}, untouched for {idle} s"


def _held(key: int) -> set[int]:
    """Ids whose advisory lock (``key``, id) someone holds on the management database right now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2"
            " AND classid = %s AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [key],
        )
        return {row[0] for row in cursor.fetchall()}


def stuck_find(*, older_than: float | None = None) -> list[Stuck]:
    """Unfinished affiliates and runs nobody holds and nothing touched for ``older_than`` seconds."""
    after = settings.RECONCILE_AFTER_SECONDS if older_than is None else older_than
    cutoff = timezone.now() - datetime.timedelta(seconds=after)
    found = []
    held = _held(locks.AFFILIATE)
    for affiliate in (
        Affiliate.objects.filter(status__in=UNFINISHED, updated_at__lte=cutoff).exclude(pk__in=held).order_by("pk")
    ):
        found.append(Stuck("affiliate", affiliate.pk, affiliate.slug, affiliate.status, affiliate.updated_at))
    moves = (
        AffiliateMove.objects.exclude(state__in=AffiliateMove.FINISHED)
        .filter(updated_at__lte=cutoff)
        .exclude(affiliate_id__in=held)
        .select_related("affiliate")
        .order_by("pk")
    )
    for item in moves:
        found.append(Stuck("move", item.affiliate_id, item.affiliate.slug, f"move {item.state}", item.updated_at))
    held = _held(locks.RUN)
    runs = (
        MigrationRun.objects.filter(status__in=RUN_UNFINISHED)
        .exclude(pk__in=held)
        .annotate(last_item=Max("items__finished_at"))
        .order_by("pk")
    )
    for run in runs:
        since = max(t for t in (run.created_at, run.started_at, run.last_item) if t is not None)
        if since <= cutoff:
            found.append(Stuck("run", run.pk, str(run.pk), run.status, since))
    return found


def reconcile(*, older_than: float | None = None, dry_run: bool = False) -> list[Stuck]:
    """Queue again what is stuck; returns what was queued (or would be, with ``dry_run``).

    QueueUnavailable when Redis still cannot be reached: nothing is lost, the next pass tries again.
    """
    after = settings.RECONCILE_AFTER_SECONDS if older_than is None else older_than
    queued = []
    for item in stuck_find(older_than=after):
        if dry_run:
            queued.append(item)
            continue
        # One requeue per item per interval, even when no worker is there to take the first one.
        if after > 0 and not cache.add(f"reconcile:{item.kind}:{item.id}", 1, timeout=after):
            continue
        if item.kind == "affiliate":
            AffiliateEvent.objects.create(
                affiliate_id=item.id,
                step="requeued",
                outcome=AffiliateEvent.Outcome.SUCCEEDED,
                duration_ms=0,
                detail=f"{item.state} and untouched since {item.since:%Y-%m-%d %H:%M:%S %Z}; queued again",
                requested_by="reconciler",
            )
            Affiliate.objects.filter(pk=item.id).update(updated_at=timezone.now())
            provisioning.affiliate_enqueue(affiliate_id=item.id, requested_by="reconciler")
        elif item.kind == "move":
            AffiliateMove.objects.filter(affiliate_id=item.id).exclude(state__in=AffiliateMove.FINISHED).update(
                updated_at=timezone.now()
            )
            move.move_enqueue(affiliate_id=item.id, server_name=None, requested_by="reconciler")
        else:
            fleet.run_enqueue(item.id)
        queued.append(item)
    return queued
