"""Fleet migrations: every affiliate database brought to the latest version, or checked for drift.

    run_create ─► (Celery) migration_run_task ─► run_advance: one batch, one JVM ─► next task …
                                                        │
    run_resume ─► the same, from the rows ──────────────┘   (succeeded rows are never redone)

A run (``MigrationRun``) has one row per affiliate, in waves: wave 0 is the canary group (when
there is one), then waves of ``wave_size`` (one wave when unset). Each Celery task advances the
run by one batch, the next wave's affiliates on one database server (at most
``FLEET_BATCH_SIZE``), in one Flyway JVM
(``flyway.fleet``) with at most ``min(parallel, FLEET_CONNECTIONS_PER_SERVER)`` databases at once
(``fleet_batches.py`` runs a batch and records its results).
Before the first batch of a migrate run the provisioning template is migrated, so an affiliate
provisioned during or after the run is cloned at the latest version.

Safety:

- the batch holds every affiliate's lock (``locks.affiliate_locks``, the lock provisioning,
  suspend/resume and archive take), so no database is migrated while another operation works on
  it and two runs never migrate one database at once; an affiliate held by another operation for
  longer than ``FLEET_LOCK_WAIT_SECONDS`` is recorded ``busy`` and left for a resume;
- a failing script rolls back on its database (PostgreSQL DDL is transactional): the affiliate
  is recorded ``failed`` with Flyway's error code and message and keeps serving at its old
  version (schema changes are expand-then-contract: docs/schema-changes.md);
- a failure in the canary wave stops the run; elsewhere ``on_error`` decides (``stop``: no new
  database starts, those under way finish; ``continue``);
- a killed worker leaves rows ``running``; ``run_resume`` runs them again (Flyway applies only
  what is missing) and everything not yet succeeded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypedDict

import psycopg
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from affiliates.audit import audit_record
from affiliates.errors import OperationError, QueueUnavailable, describe
from affiliates.infra import flyway, locks, queue
from affiliates.infra.flyway_runner import run_many
from affiliates.infra.targets import CONNECT_TIMEOUT, management_target, on_database, server_admin_target
from affiliates.models import Affiliate, DatabaseServer, MigrationRun, MigrationRunAffiliate, StaffAudit
from affiliates.operations.affiliate_database import template_ensure
from affiliates.operations.fleet_batches import CHANNEL, Outcome, announce, batch_execute

# Part of this module's interface as well (the admin and the commands read them here).
from affiliates.operations.fleet_batches import WITH_DATABASE as WITH_DATABASE
from affiliates.operations.fleet_batches import threads_for as threads_for
from affiliates.operations.placement import database_server_default

#: Rows a batch still has to do (``running``: left behind by a worker that died mid-batch).
TO_DO = (Outcome.PENDING, Outcome.RUNNING)
#: Rows a resume does again.
NOT_DONE = (Outcome.PENDING, Outcome.RUNNING, Outcome.FAILED, Outcome.BUSY)


class FleetError(OperationError):
    """A run cannot be started or resumed; the message says why and nothing was changed."""


# --- which affiliates ---


def affiliates_select(
    *, slugs: Iterable[str] = (), server: str | None = None, behind: bool = False
) -> QuerySet[Affiliate]:
    """Affiliates a run works on: those with a database, narrowed by slug, server and version."""
    slugs = sorted(set(slugs))
    queryset = Affiliate.objects.select_related("database_server").order_by("pk")
    if slugs:
        found = dict(queryset.filter(schema_name__in=slugs).values_list("schema_name", "status"))
        problems = [f"no affiliate {slug!r}" for slug in slugs if slug not in found]
        problems += [
            f"{slug} is {status}: it has no database to migrate"
            for slug, status in sorted(found.items())
            if status not in WITH_DATABASE
        ]
        if problems:
            raise FleetError("; ".join(problems))
        queryset = queryset.filter(schema_name__in=slugs)
    queryset = queryset.filter(status__in=WITH_DATABASE)
    if server is not None:
        if not DatabaseServer.objects.filter(name=server).exists():
            names = ", ".join(DatabaseServer.objects.values_list("name", flat=True)) or "none registered"
            raise FleetError(f"no database server {server!r} (servers: {names})")
        queryset = queryset.filter(database_server__name=server)
    if behind:
        latest = flyway.version_key(flyway.latest_version("application"))
        rows = queryset.values_list("pk", "schema_version")
        ids = [pk for pk, version in rows if flyway.version_key(version) < latest]
        queryset = queryset.filter(pk__in=ids)
    return queryset


# --- starting, resuming, following ---


@dataclass(frozen=True)
class Strategy:
    canary: int = 0
    wave_size: int | None = None
    parallel: int = 4
    on_error: str = MigrationRun.OnError.STOP

    def check(self) -> None:
        problems = []
        if self.canary < 0:
            problems.append("--canary must be 0 or more")
        if self.wave_size is not None and self.wave_size < 1:
            problems.append("--wave-size must be at least 1")
        if self.parallel < 1:
            problems.append("--parallel must be at least 1")
        if self.on_error not in MigrationRun.OnError.values:
            problems.append(f"--on-error must be one of {', '.join(MigrationRun.OnError.values)}")
        if problems:
            raise FleetError("; ".join(problems))


def waves_assign(count: int, strategy: Strategy) -> list[int]:
    """The wave of each of ``count`` affiliates, in order: canary first (wave 0), then waves of wave_size."""
    waves = []
    for position in range(count):
        if position < strategy.canary:
            waves.append(0)
        elif strategy.wave_size:
            waves.append(1 + (position - strategy.canary) // strategy.wave_size)
        else:
            waves.append(1)
    return waves


def run_create(
    kind: str,
    affiliates: Iterable[Affiliate],
    *,
    strategy: Strategy = Strategy(),
    started_by: str,
    channel: str,
    enqueue: bool = True,
) -> MigrationRun:
    """Record a run with one pending row per affiliate and queue its first batch after commit."""
    if kind not in MigrationRun.Kind.values:
        raise FleetError(f"unknown run kind {kind!r}")
    strategy.check()
    affiliates = list(affiliates)
    with transaction.atomic():
        run = MigrationRun.objects.create(
            kind=kind,
            status=MigrationRun.Status.PENDING,
            target_version=flyway.latest_version("application"),
            started_by=started_by[:150],
            canary=strategy.canary,
            wave_size=strategy.wave_size,
            parallel=strategy.parallel,
            on_error=strategy.on_error,
        )
        MigrationRunAffiliate.objects.bulk_create(
            MigrationRunAffiliate(run=run, affiliate=affiliate, wave=wave)
            for affiliate, wave in zip(affiliates, waves_assign(len(affiliates), strategy), strict=True)
        )
        audit_record(
            actor=started_by,
            channel=channel,
            action=kind,
            target=f"run {run.pk}",
            outcome=StaffAudit.Outcome.STARTED,
            detail=f"{len(affiliates)} affiliates to V{run.target_version}; {strategy_describe(run)}",
        )
        if enqueue:
            transaction.on_commit(lambda: run_enqueue(run.pk))
    return run


def strategy_describe(run: MigrationRun) -> str:
    parts = [f"parallel {run.parallel}", f"on error {run.on_error}"]
    if run.canary:
        parts.insert(0, f"canary {run.canary}")
    if run.wave_size:
        parts.insert(0, f"waves of {run.wave_size}")
    return ", ".join(parts)


def run_enqueue(run_id: int) -> str:
    try:
        return queue.send(queue.MIGRATION_RUN, run_id)
    except QueueUnavailable as exc:
        raise QueueUnavailable(
            f"{exc}; run {run_id} is recorded and the reconciler queues it once the queue is back"
        ) from exc


def run_resume(run_id: int, *, started_by: str, channel: str, enqueue: bool = True) -> MigrationRun:
    """Continue a stopped, failed or interrupted run: everything not yet succeeded is done again."""
    with locks.run_lock(run_id) as acquired:
        run = MigrationRun.objects.filter(pk=run_id).first()
        if run is None:
            raise FleetError(f"no migration run {run_id}")
        if not acquired:
            raise FleetError(f"run {run_id} is being advanced by a worker right now; follow it instead")
        if run.status == MigrationRun.Status.SUCCEEDED and not run.items.exclude(outcome=Outcome.SUCCEEDED).exclude(
            outcome=Outcome.SKIPPED
        ):
            raise FleetError(f"run {run_id} succeeded; there is nothing to resume")
        with transaction.atomic():
            again = run.items.filter(outcome__in=NOT_DONE).update(outcome=Outcome.PENDING)
            MigrationRun.objects.filter(pk=run.pk).update(
                status=MigrationRun.Status.PENDING, status_detail="", finished_at=None
            )
            audit_record(
                actor=started_by,
                channel=channel,
                action=f"{run.kind}_resume",
                target=f"run {run.pk}",
                outcome=StaffAudit.Outcome.STARTED,
                detail=f"{again} affiliates to do again",
            )
            if enqueue:
                transaction.on_commit(lambda: run_enqueue(run.pk))
    run.refresh_from_db()
    return run


@dataclass(frozen=True)
class Progress:
    total: int
    succeeded: int
    failed: int
    skipped: int
    busy: int
    pending: int

    @property
    def done(self) -> int:
        return self.succeeded + self.failed + self.skipped + self.busy


def run_progress(run: MigrationRun) -> Progress:
    counts = run.items.aggregate(
        total=Count("id"),
        succeeded=Count("id", filter=Q(outcome=Outcome.SUCCEEDED)),
        failed=Count("id", filter=Q(outcome=Outcome.FAILED)),
        skipped=Count("id", filter=Q(outcome=Outcome.SKIPPED)),
        busy=Count("id", filter=Q(outcome=Outcome.BUSY)),
        pending=Count("id", filter=Q(outcome__in=TO_DO)),
    )
    return Progress(**counts)


# --- doing the work: one batch per call ---


def run_advance(run_id: int) -> str:
    """Do the run's next batch; ``continued`` when more remain, ``busy`` if another worker has the run,
    else the run's final status."""
    with locks.run_lock(run_id) as acquired:
        if not acquired:
            return "busy"
        run = MigrationRun.objects.filter(pk=run_id).first()
        if run is None:
            return "gone"  # removed from the registry after it was queued
        if run.finished:
            return run.status
        if run.status == MigrationRun.Status.PENDING:  # new, or resumed: the template (again) first
            ended = _run_begin(run)
            if ended is not None:
                return ended
        batch = _batch_next(run)
        if batch is None:
            return _run_conclude(run)
        wave, items = batch
        batch_execute(run, items)
        stopped = _run_stop_on_failure(run, wave)
        if stopped is not None:
            return stopped
        if run.items.filter(outcome__in=TO_DO).exists():
            return "continued"
        return _run_conclude(run)


def _run_begin(run: MigrationRun) -> str | None:
    """Mark a pending run running, a migrate run's templates migrated first; the final status if that fails."""
    if run.kind == MigrationRun.Kind.MIGRATE:
        try:
            _templates_migrate(run)
        except (flyway.FlywayError, OperationError, psycopg.Error) as exc:
            # Nothing was done on any affiliate: the run stops here.
            return _run_finish(run, MigrationRun.Status.FAILED, f"template: {describe(exc)}")
    # Running from here on (an interruption before this point does the template again).
    _run_update(run, status=MigrationRun.Status.RUNNING, started_at=run.started_at or timezone.now())
    return None


def _batch_next(run: MigrationRun) -> tuple[int, list[MigrationRunAffiliate]] | None:
    """The wave and rows of the run's next batch: the first wave's rows still to do on one server; None when
    nothing is left."""
    to_do = run.items.filter(outcome__in=TO_DO)
    server = "affiliate__database_server_id"
    head = to_do.order_by("wave", server, "id").values("wave", server).first()
    if head is None:
        return None
    batch = list(
        to_do.filter(wave=head["wave"], affiliate__database_server_id=head[server])
        .select_related("affiliate", "affiliate__database_server")
        .order_by("id")[: settings.FLEET_BATCH_SIZE]
    )
    return head["wave"], batch


def _run_stop_on_failure(run: MigrationRun, wave: int) -> str | None:
    """After a migrate batch with failures in ``wave``: stop the run if it was the canary wave or ``on_error``
    says stop; the final status then."""
    if run.kind != MigrationRun.Kind.MIGRATE:
        return None
    failed = run.items.filter(wave=wave, outcome=Outcome.FAILED).count()
    if failed and wave == 0 and run.canary:
        return _run_finish(run, MigrationRun.Status.STOPPED, f"canary failed on {failed} affiliate(s)")
    if failed and run.on_error == MigrationRun.OnError.STOP:
        return _run_finish(run, MigrationRun.Status.STOPPED, f"{failed} affiliate(s) failed; on error: stop")
    return None


def _templates_migrate(run: MigrationRun) -> None:
    """Bring the provisioning template on each server the run or a new affiliate touches to the latest."""
    servers = {s.pk: s for s in DatabaseServer.objects.filter(affiliates__migration_items__run=run).distinct()}
    default = database_server_default()
    servers.setdefault(default.pk, default)
    for server in servers.values():
        template_ensure(server_admin_target(server))


def run_changes(run_id: int, *, timeout: float) -> Iterator[None]:
    """Yield once now and again each time the run changes (or ``timeout`` seconds pass quietly)."""
    with psycopg.connect(
        **management_target().conninfo(), autocommit=True, connect_timeout=CONNECT_TIMEOUT
    ) as listener:
        listener.execute(psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(CHANNEL)))
        while True:
            yield
            for notice in listener.notifies(timeout=timeout):
                if notice.payload == str(run_id):
                    break


def _run_update(run: MigrationRun, **fields: object) -> None:
    for key, value in fields.items():
        setattr(run, key, value)
    MigrationRun.objects.filter(pk=run.pk).update(**fields)
    announce(run.pk)


def _run_conclude(run: MigrationRun) -> str:
    progress = run_progress(run)
    if progress.failed or progress.busy:
        what = ", ".join(f"{n} {label}" for n, label in ((progress.failed, "failed"), (progress.busy, "busy")) if n)
        return _run_finish(run, MigrationRun.Status.FAILED, what)
    return _run_finish(run, MigrationRun.Status.SUCCEEDED, f"{progress.succeeded} affiliates")


def _run_finish(run: MigrationRun, status: str, detail: str) -> str:
    _run_update(run, status=status, status_detail=detail, finished_at=timezone.now())
    audit_record(
        actor=run.started_by,
        channel=StaffAudit.Channel.TASK,
        action=run.kind,
        target=f"run {run.pk}",
        outcome=StaffAudit.Outcome.SUCCEEDED if status == MigrationRun.Status.SUCCEEDED else StaffAudit.Outcome.FAILED,
        detail=f"{status}: {detail}",
    )
    return status


# --- looking without touching ---


class DryRunRow(TypedDict):
    """One affiliate in :func:`dry_run` (printed, or written as JSON, by ``migrate_affiliates --dry-run``)."""

    affiliate: str
    server: str
    current: str | None
    target: str
    scripts: list[str]
    error: str


def dry_run(affiliates: Iterable[Affiliate], *, parallel: int = 4) -> list[DryRunRow]:
    """Per affiliate: the current version, the target and the scripts migrate would run. Changes nothing."""
    placed: list[tuple[Affiliate, DatabaseServer, str]] = [
        (a, a.database_server, a.database_name) for a in affiliates if a.database_server and a.database_name
    ]
    targets = {str(a.pk): on_database(server_admin_target(server), name) for a, server, name in placed}
    results = run_many("info", targets, kind="application", threads=threads_for(parallel))
    latest = flyway.latest_version("application")
    rows: list[DryRunRow] = []
    for affiliate, server, _ in placed:
        result = results[str(affiliate.pk)]
        rows.append(
            {
                "affiliate": affiliate.slug,
                "server": server.name,
                "current": result.version,
                "target": latest,
                "scripts": list(result.pending_scripts),
                "error": str(result.error) if result.error else "",
            }
        )
    return rows
