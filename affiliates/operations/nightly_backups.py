"""Nightly backups: every active gym once a night, spread over a window, per database server.

The window opens at ``BACKUP_WINDOW_START_HOUR`` (UTC) and lasts ``BACKUP_WINDOW_HOURS``. On each
server, the active gyms sorted by id get slots spread evenly over the window: gym number ``k`` of
``n`` is due at ``start + k × hours / n``, so a server never has all its dumps at once, and the
slot is the same on every tick for the same fleet.

Celery beat runs :func:`schedule_tick` every few minutes. It queues
``affiliates.tasks.affiliate_backup_task`` for each gym whose slot has passed tonight, that has no
good backup since the window opened, and that it has not queued within
``BACKUP_QUEUED_TTL_SECONDS`` (a Redis key with that lifetime). Nothing else is remembered: a lost
message, a crashed worker or a failed backup leaves the gym without tonight's good backup, so a
tick after the key expires queues it again, until the window closes. The task takes the gym's
lock and does nothing when tonight's backup is already there, so a message delivered twice dumps
once.

Only *active* gyms are backed up: a suspended gym's role cannot log in, so its data cannot change
and its newest backup (never pruned) stays current; an archived gym has no database.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from affiliates.errors import QueueUnavailable, describe
from affiliates.infra import locks, queue
from affiliates.infra.targets import on_database, server_admin_target
from affiliates.models import Affiliate, AffiliateBackup
from affiliates.operations import backup_records
from affiliates.operations.affiliate_database import name_of


@dataclass(frozen=True)
class Window:
    """Tonight's backup window: when it opened and when it closes."""

    start: datetime.datetime
    end: datetime.datetime

    def open_at(self, moment: datetime.datetime) -> bool:
        return self.start <= moment < self.end


def window_for(now: datetime.datetime) -> Window:
    """The window that opened last (today's if its hour has come, else yesterday's)."""
    now = now.astimezone(datetime.UTC)
    start = now.replace(hour=settings.BACKUP_WINDOW_START_HOUR, minute=0, second=0, microsecond=0)
    if start > now:
        start -= datetime.timedelta(days=1)
    return Window(start, start + datetime.timedelta(hours=settings.BACKUP_WINDOW_HOURS))


def slots(window: Window) -> dict[int, datetime.datetime]:
    """Each active gym's slot in ``window``: evenly spread among the gyms of its server, by id."""
    by_server: dict[int | None, list[int]] = {}
    active = Affiliate.objects.filter(status=Affiliate.Status.ACTIVE).order_by("database_server_id", "id")
    for affiliate_id, server_id in active.values_list("id", "database_server_id"):
        by_server.setdefault(server_id, []).append(affiliate_id)
    length = window.end - window.start
    return {
        affiliate_id: window.start + length * rank / len(ids)
        for ids in by_server.values()
        for rank, affiliate_id in enumerate(ids)
    }


def backed_up_since(moment: datetime.datetime) -> set[int]:
    """The gyms with a good backup taken at or after ``moment``."""
    rows = AffiliateBackup.objects.filter(outcome=AffiliateBackup.Outcome.SUCCEEDED, taken_at__gte=moment)
    return set(rows.values_list("affiliate_id", flat=True).distinct())


def due(now: datetime.datetime, *, ignore_slots: bool = False) -> list[int]:
    """The active gyms due a backup tonight: slot passed (every slot with ``ignore_slots``), none good yet."""
    window = window_for(now)
    if not ignore_slots and not window.open_at(now):
        return []
    done = backed_up_since(window.start)
    return sorted(a for a, slot in slots(window).items() if (ignore_slots or slot <= now) and a not in done)


def queued_key(affiliate_id: int, window: Window) -> str:
    """The Redis key that says a gym's backup was queued tonight (it lives BACKUP_QUEUED_TTL_SECONDS)."""
    return f"backups:queued:{window.start:%Y%m%d}:{affiliate_id}"


def schedule_tick(now: datetime.datetime | None = None) -> list[int]:
    """Queue the backup of every gym due now and not queued recently; the gyms queued."""
    now = now or timezone.now()
    window = window_for(now)
    queued: list[int] = []
    for affiliate_id in due(now):
        key = queued_key(affiliate_id, window)
        if not cache.add(key, 1, timeout=settings.BACKUP_QUEUED_TTL_SECONDS):
            continue  # queued within the key's lifetime: its task is waiting or running
        try:
            queue.send(queue.BACKUP, affiliate_id, AffiliateBackup.Kind.NIGHTLY, "schedule")
        except QueueUnavailable:
            cache.delete(key)  # the next tick tries again
            raise
        queued.append(affiliate_id)
    return queued


def backup_run(affiliate_id: int, *, kind: str = AffiliateBackup.Kind.NIGHTLY, requested_by: str = "schedule") -> str:
    """Back up one gym now, under its lock, and record it; what happened (``taken``, ``done``, ``skipped``).

    A nightly backup is skipped when the gym already has tonight's good backup (a message delivered
    twice) or is no longer active. Raises what the backup raised (recorded as a failed backup);
    ``AffiliateBusy`` when another operation holds the gym.
    """
    with locks.affiliate_held(affiliate_id, "back up"):
        affiliate: Affiliate = Affiliate.objects.select_related("database_server").get(pk=affiliate_id)
        if affiliate.status != Affiliate.Status.ACTIVE or affiliate.database_server is None:
            return "skipped"
        if kind == AffiliateBackup.Kind.NIGHTLY and affiliate_id in backed_up_since(window_for(timezone.now()).start):
            return "done"
        target = on_database(server_admin_target(affiliate.database_server), name_of(affiliate))
        backup_records.backup_recorded(affiliate, target, kind=kind, requested_by=requested_by)
    return "taken"


@dataclass(frozen=True)
class PassResult:
    """One gym's part in a pass run at once (``manage.py backups_nightly``)."""

    slug: str
    outcome: str  # taken, done, skipped, failed
    detail: str = ""


def nightly_pass(
    *, everything: bool = False, requested_by: str = "", progress: Callable[[PassResult], None] | None = None
) -> list[PassResult]:
    """Tonight's pass in this process, one gym after another: the gyms due now, or (``everything``)
    every active gym without a good backup since the window last opened, whatever its slot."""
    results = []
    ids = due(timezone.now(), ignore_slots=everything)
    slugs = dict(Affiliate.objects.filter(pk__in=ids).values_list("id", "schema_name"))
    for affiliate_id in ids:
        try:
            outcome, detail = backup_run(affiliate_id, requested_by=requested_by or "schedule"), ""
        except Exception as exc:
            outcome, detail = "failed", describe(exc)
        result = PassResult(slugs.get(affiliate_id, str(affiliate_id)), outcome, detail)
        results.append(result)
        if progress:
            progress(result)
    return results
