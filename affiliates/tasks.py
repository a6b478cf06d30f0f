"""Celery tasks of the affiliate registry. Tasks take ids and re-fetch inside.

Acknowledgement, time limits and redelivery come from settings (``CELERY_TASK_ACKS_LATE``,
``CELERY_TASK_TIME_LIMIT``, …) and nowhere else: ``checks.py`` makes sure Redis does not hand a
task that is still running to a second worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypedDict

import psycopg
from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError as DjangoOperationalError

from affiliates.errors import AffiliateBusy
from affiliates.infra import audit_anchor, flyway, queue
from affiliates.models import Affiliate, AffiliateMove
from affiliates.operations import (
    backup_retention,
    fleet,
    lifecycle,
    move,
    nightly_backups,
    provisioning,
    reconcile,
    restore_drill,
    role_passwords,
)


class TransientError(Exception):
    """A failure worth retrying with backoff (database unreachable, restarted, …)."""


class RetryOptions(TypedDict):
    """The options of ``shared_task`` that make a task retry transient failures."""

    bind: Literal[True]
    autoretry_for: tuple[type[Exception], ...]
    retry_backoff: int
    retry_backoff_max: int
    retry_jitter: bool
    max_retries: int


class AffiliateTaskResult(TypedDict):
    """What an affiliate's task answers: the affiliate and its status (or ``gone``, ``busy``)."""

    affiliate_id: int
    status: str


class RunTaskResult(TypedDict):
    """What a migration run's task answers: the run and how the batch ended."""

    run_id: int
    status: str


class ReconcileResult(TypedDict):
    """What the reconciler's task answers: what it queued again, described."""

    queued: list[str]


#: Both tasks retry transient failures with backoff (about a minute and a half in all).
RETRY_TRANSIENT: RetryOptions = {
    "bind": True,
    "autoretry_for": (TransientError,),
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "retry_jitter": False,
    "max_retries": 6,
}


def _affiliate_task(affiliate_id: int, action: Callable[[], Affiliate]) -> AffiliateTaskResult:
    """Run one affiliate operation for a task: a removed affiliate or one another worker holds ends
    the task quietly; a dropped connection (PostgreSQL, or Flyway's) is retried with backoff."""
    try:
        affiliate = action()
    except Affiliate.DoesNotExist:
        # Removed from the registry after it was queued (a cleared registry, a test): nothing to do.
        return {"affiliate_id": affiliate_id, "status": "gone"}
    except AffiliateBusy:
        # Another worker holds this affiliate's lock and will finish the job.
        return {"affiliate_id": affiliate_id, "status": "busy"}
    except (psycopg.OperationalError, DjangoOperationalError) as exc:
        raise TransientError(str(exc)) from exc
    except flyway.FlywayError as exc:
        if exc.error_code == "DB_CONNECTION":
            raise TransientError(str(exc)) from exc
        raise
    return {"affiliate_id": affiliate_id, "status": affiliate.status}


@shared_task(name=queue.PROVISION, **RETRY_TRANSIENT)
def affiliate_provision_task(self: Task[Any, Any], affiliate_id: int, requested_by: str = "") -> AffiliateTaskResult:
    """Provision one affiliate to ``active``; safe to run twice, and after a crash at any step."""
    return _affiliate_task(
        affiliate_id, lambda: provisioning.affiliate_provision(affiliate_id=affiliate_id, requested_by=requested_by)
    )


@shared_task(name=queue.RESTORE, **RETRY_TRANSIENT)
def affiliate_restore_task(
    self: Task[Any, Any], affiliate_id: int, backup: str, server_name: str | None = None, requested_by: str = ""
) -> AffiliateTaskResult:
    """Restore an archived affiliate from ``backup`` (the command center's restore action).

    A failed attempt drops what it made and leaves the affiliate archived, so a retry after a
    dropped connection starts clean; an affiliate already active again is left alone.
    """
    current = Affiliate.objects.filter(pk=affiliate_id).values_list("status", flat=True).first()
    if current is None:
        return {"affiliate_id": affiliate_id, "status": "gone"}
    if current != Affiliate.Status.ARCHIVED:
        # Delivered again after it succeeded (or restored meanwhile from the shell): nothing to do.
        return {"affiliate_id": affiliate_id, "status": current}
    return _affiliate_task(
        affiliate_id,
        lambda: lifecycle.affiliate_restore(
            affiliate_id=affiliate_id,
            backup=backup,
            server_name=server_name,
            requested_by=requested_by,
            channel="admin",
        ),
    )


@shared_task(name=queue.MIGRATION_RUN, **RETRY_TRANSIENT)
def migration_run_task(self: Task[Any, Any], run_id: int) -> RunTaskResult:
    """Advance a fleet migration run by one batch (one Flyway JVM), then queue the next batch.

    Safe to deliver twice: the run's lock lets one worker advance it, and rows already done are
    never redone.
    """
    try:
        status = fleet.run_advance(run_id)
    except SoftTimeLimitExceeded:
        # The batch ran long (slow scripts): what finished is recorded, the rest is still to do.
        status = "continued"
    except (psycopg.OperationalError, DjangoOperationalError) as exc:
        raise TransientError(str(exc)) from exc
    if status == "continued":
        fleet.run_enqueue(run_id)
    return {"run_id": run_id, "status": status}


@shared_task(name=queue.RECONCILE)
def reconcile_task() -> ReconcileResult:
    """Queue again affiliates and migration runs left unfinished (run by Celery beat)."""
    queued = reconcile.reconcile()
    return {"queued": [item.describe() for item in queued]}


@shared_task(name=queue.ROLE_REPAIR, **RETRY_TRANSIENT)
def affiliate_role_repair_task(self: Task[Any, Any], affiliate_id: int) -> AffiliateTaskResult:
    """Set a gym role's password back after it was changed from inside (asked for by the web process
    when the role refused every password it knows); audited, and a no-op when the role accepts it."""
    try:
        status = role_passwords.role_repair(affiliate_id)
    except AffiliateBusy:
        return {"affiliate_id": affiliate_id, "status": "busy"}
    except (psycopg.OperationalError, DjangoOperationalError) as exc:
        raise TransientError(str(exc)) from exc
    return {"affiliate_id": affiliate_id, "status": status}


class AnchorResult(TypedDict):
    """What the audit anchor's task answers: the head it shipped."""

    chain_seq: int
    row_hash: str


@shared_task(name="affiliates.tasks.audit_head_ship_task")
def audit_head_ship_task() -> AnchorResult:
    """Ship the staff audit chain's head to the Object Lock bucket (run by Celery beat)."""
    anchor = audit_anchor.head_ship()
    return {"chain_seq": anchor.chain_seq, "row_hash": anchor.row_hash}


class MoveTaskResult(TypedDict):
    """What a move's task answers: the affiliate and how its move stands (``none`` when it has no open move)."""

    affiliate_id: int
    state: str


@shared_task(name=queue.MOVE, **RETRY_TRANSIENT)
def affiliate_move_task(
    self: Task[Any, Any], affiliate_id: int, server_name: str | None = None, requested_by: str = ""
) -> MoveTaskResult:
    """Move a gym to ``server_name`` (placement's choice when None), or resume its open move.

    Delivered twice, or queued again by the reconciler after a worker died mid-move: the move resumes
    from the state it reached; a dropped connection is retried with backoff.
    """
    done: AffiliateMove | None
    try:
        if move.open_move_of(affiliate_id) is None:
            slug = Affiliate.objects.filter(pk=affiliate_id).values_list("schema_name", flat=True).first()
            if slug is None:
                return {"affiliate_id": affiliate_id, "state": "gone"}
            done = move.affiliate_move(slug=slug, to=server_name, requested_by=requested_by, channel="admin")
        else:
            done = move.affiliate_move_resume(affiliate_id=affiliate_id, requested_by=requested_by)
    except AffiliateBusy:
        return {"affiliate_id": affiliate_id, "state": "busy"}
    except (psycopg.OperationalError, DjangoOperationalError) as exc:
        raise TransientError(str(exc)) from exc
    return {"affiliate_id": affiliate_id, "state": done.state if done else "none"}


# --- each gym's load (affiliates/operations/load.py) ---


class LoadCollectResult(TypedDict):
    """What the load collector's task answers: gyms read, and each server that failed, described."""

    read: int
    failed: list[str]


@shared_task(name=queue.LOAD_COLLECT)
def load_collect_task() -> LoadCollectResult:
    """Read every gym's load from its server's statistics into the registry (run by Celery beat).

    A server that cannot be reached is skipped and logged; the next run reads it again.
    """
    from affiliates.operations import load

    report = load.load_collect()
    return {"read": report.read, "failed": [outcome.describe() for outcome in report.failed]}


# --- nightly backups, retention and the restore drill (affiliates/operations/nightly_backups.py, …) ---


class BackupTaskResult(TypedDict):
    """What a gym's backup task answers: the gym and what happened (taken, done, skipped, busy, gone)."""

    affiliate_id: int
    status: str


@shared_task(name=queue.BACKUP, **RETRY_TRANSIENT)
def affiliate_backup_task(
    self: Task[Any, Any], affiliate_id: int, kind: str = "nightly", requested_by: str = "schedule"
) -> BackupTaskResult:
    """Back up one gym and record it (a failure too); tonight's backup already there: nothing to do."""
    try:
        status = nightly_backups.backup_run(affiliate_id, kind=kind, requested_by=requested_by)
    except Affiliate.DoesNotExist:
        status = "gone"
    except AffiliateBusy:
        status = "busy"  # another operation holds the gym: the next beat tick queues it again
    except (psycopg.OperationalError, DjangoOperationalError) as exc:
        raise TransientError(str(exc)) from exc
    return {"affiliate_id": affiliate_id, "status": status}


@shared_task(name=queue.BACKUP_SCHEDULE)
def backup_schedule_task() -> list[int]:
    """Queue the backup of every gym due tonight and not queued recently (run by Celery beat)."""
    return nightly_backups.schedule_tick()


@shared_task(name=queue.BACKUP_PRUNE)
def backup_prune_task() -> dict[str, int]:
    """Apply the retention policy to every gym's backups (run by Celery beat, daily)."""
    report = backup_retention.prune()
    return {"deleted": len(report.deleted), "gone": len(report.gone), "pinned": len(report.pinned)}


@shared_task(name=queue.BACKUP_DRILL)
def backup_drill_task() -> dict[str, str | int]:
    """Restore a random active gym's newest backup into a scratch database and check it (weekly)."""
    drill = restore_drill.drill_run(requested_by="schedule", channel="task")
    return {"drill_id": drill.pk, "outcome": drill.outcome}
