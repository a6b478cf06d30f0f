"""Fleet migrations: every affiliate database brought to the latest version, or checked for drift.

    run_create ─► (Celery) migration_run_task ─► run_advance: one batch, one JVM ─► next task …
                                                        │
    run_resume ─► the same, from the rows ──────────────┘   (succeeded rows are never redone)

A run (``MigrationRun``) has one row per affiliate, in waves: wave 0 is the canary group (when
there is one), then waves of ``wave_size`` (one wave when unset). Each Celery task advances the
run by one batch, the next wave's affiliates on one database server (at most
``FLEET_BATCH_SIZE``), in one Flyway JVM
(``flyway.fleet``) with at most ``min(parallel, FLEET_CONNECTIONS_PER_SERVER)`` databases at once.
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

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from affiliates.audit import audit_record
from affiliates.errors import OperationError, QueueUnavailable, describe
from affiliates.infra import flyway, locks, queue
from affiliates.infra.flyway_runner import RunnerResult, run_many
from affiliates.infra.targets import CONNECT_TIMEOUT, management_target, on_database, server_admin_target
from affiliates.models import Affiliate, DatabaseServer, MigrationRun, MigrationRunAffiliate, StaffAudit
from affiliates.operations.affiliate_database import template_ensure
from affiliates.operations.placement import database_server_default

Outcome = MigrationRunAffiliate.Outcome

#: Affiliates with a database a run works on (provisioning brings the others to the latest itself).
WITH_DATABASE = (Affiliate.Status.ACTIVE, Affiliate.Status.SUSPENDED)
#: Rows a batch still has to do (``running``: left behind by a worker that died mid-batch).
TO_DO = (Outcome.PENDING, Outcome.RUNNING)
#: Rows a resume does again.
NOT_DONE = (Outcome.PENDING, Outcome.RUNNING, Outcome.FAILED, Outcome.BUSY)


#: Connections the fleet runner holds at once per database: one (Flyway's session-level lock,
#: see FleetRunner.configure; with its default transactional lock Flyway opens two).
#: bench/fleet_migrate.py reports the peak against the budget.
FLYWAY_CONNECTIONS_PER_DATABASE = 1


def threads_for(parallel: int) -> int:
    """Databases at once on one server: what was asked, within FLEET_CONNECTIONS_PER_SERVER."""
    return max(1, min(parallel, settings.FLEET_CONNECTIONS_PER_SERVER // FLYWAY_CONNECTIONS_PER_DATABASE))


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
            if run.kind == MigrationRun.Kind.MIGRATE:
                try:
                    _templates_migrate(run)
                except (flyway.FlywayError, OperationError, psycopg.Error) as exc:
                    # Nothing was done on any affiliate: the run stops here.
                    return _run_finish(run, MigrationRun.Status.FAILED, f"template: {describe(exc)}")
            # Running from here on (an interruption before this point does the template again).
            _run_update(run, status=MigrationRun.Status.RUNNING, started_at=run.started_at or timezone.now())
        to_do = run.items.filter(outcome__in=TO_DO)
        server = "affiliate__database_server_id"
        head = to_do.order_by("wave", server, "id").values("wave", server).first()
        if head is None:
            return _run_conclude(run)
        batch = list(
            to_do.filter(wave=head["wave"], affiliate__database_server_id=head[server])
            .select_related("affiliate", "affiliate__database_server")
            .order_by("id")[: settings.FLEET_BATCH_SIZE]
        )
        _batch_execute(run, batch)
        if run.kind == MigrationRun.Kind.MIGRATE:
            failed = run.items.filter(wave=head["wave"], outcome=Outcome.FAILED).count()
            if failed and head["wave"] == 0 and run.canary:
                return _run_finish(run, MigrationRun.Status.STOPPED, f"canary failed on {failed} affiliate(s)")
            if failed and run.on_error == MigrationRun.OnError.STOP:
                return _run_finish(run, MigrationRun.Status.STOPPED, f"{failed} affiliate(s) failed; on error: stop")
        if run.items.filter(outcome__in=TO_DO).exists():
            return "continued"
        return _run_conclude(run)


def _templates_migrate(run: MigrationRun) -> None:
    """Bring the provisioning template on each server the run or a new affiliate touches to the latest."""
    servers = {s.pk: s for s in DatabaseServer.objects.filter(affiliates__migration_items__run=run).distinct()}
    default = database_server_default()
    servers.setdefault(default.pk, default)
    for server in servers.values():
        template_ensure(server_admin_target(server))


#: The PostgreSQL channel a run's progress is announced on (payload: the run id), so that
#: followers wake when something changed instead of polling.
CHANNEL = "fitbuddy_migration_run"


def _announce(run_id: int) -> None:
    """Tell followers the run changed (delivered when the current transaction commits)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, str(run_id)])


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


def _run_update(run: MigrationRun, **fields) -> None:
    for key, value in fields.items():
        setattr(run, key, value)
    MigrationRun.objects.filter(pk=run.pk).update(**fields)
    _announce(run.pk)


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


def _batch_execute(run: MigrationRun, batch: list[MigrationRunAffiliate]) -> None:
    ids = [item.affiliate_id for item in batch]
    by_affiliate = {item.affiliate_id: item for item in batch}
    with locks.affiliate_locks() as held:
        held.try_acquire(ids)
        waiting = [i for i in ids if i not in held.held]
        deadline = time.monotonic() + settings.FLEET_LOCK_WAIT_SECONDS
        ready = [by_affiliate[i] for i in ids if i in held.held]
        _execute(run, ready)
        # Those another operation held: wait for them (bounded), then do them in one more JVM.
        while waiting and time.monotonic() < deadline:
            if held.wait_for(waiting[0], seconds=max(0.0, deadline - time.monotonic())):
                held.try_acquire(waiting)
            else:
                break
            ready = [by_affiliate[i] for i in waiting if i in held.held]
            waiting = [i for i in waiting if i not in held.held]
            _execute(run, ready)
        now = timezone.now()
        for affiliate_id in waiting:
            _item_save(
                by_affiliate[affiliate_id],
                outcome=Outcome.BUSY,
                error_code="BUSY",
                error_message=f"another operation held this affiliate for {settings.FLEET_LOCK_WAIT_SECONDS} s",
                finished_at=now,
            )


def _execute(run: MigrationRun, items: list[MigrationRunAffiliate]) -> None:
    """Run Flyway on the items' databases (their locks held), recording each result as it arrives."""
    if not items:
        return
    # Re-read under the lock: an affiliate archived since the run began has no database any more.
    current = Affiliate.objects.select_related("database_server").in_bulk([item.affiliate_id for item in items])
    targets, live = {}, []
    now = timezone.now()
    for item in items:
        affiliate = current.get(item.affiliate_id)
        if affiliate is None or affiliate.status not in WITH_DATABASE or not affiliate.database_name:
            status = affiliate.status if affiliate else "gone"
            _item_save(item, outcome=Outcome.SKIPPED, error_message=f"{status}: no database", finished_at=now)
            continue
        item.affiliate = affiliate
        admin = server_admin_target(affiliate.database_server) if affiliate.database_server else None
        if admin is None:
            _item_save(item, outcome=Outcome.SKIPPED, error_message="not placed on a database server")
            continue
        targets[str(item.affiliate_id)] = on_database(admin, affiliate.database_name)
        live.append(item)
    if not live:
        return
    MigrationRunAffiliate.objects.filter(pk__in=[item.pk for item in live]).update(outcome=Outcome.RUNNING)
    writer = _ResultWriter(run, {str(item.affiliate_id): item for item in live})
    stop = run.kind == MigrationRun.Kind.MIGRATE and (
        run.on_error == MigrationRun.OnError.STOP or (run.canary and live[0].wave == 0)
    )
    try:
        run_many(
            "migrate" if run.kind == MigrationRun.Kind.MIGRATE else "check",
            targets,
            kind="application",
            threads=threads_for(run.parallel),
            expect_current=[
                str(item.affiliate_id) for item in live if item.affiliate.schema_version == run.target_version
            ],
            stop_on_error=bool(stop),
            on_result=writer.add,
        )
    finally:
        writer.flush()


def _item_save(item: MigrationRunAffiliate, **fields) -> None:
    for key, value in fields.items():
        setattr(item, key, value)
    MigrationRunAffiliate.objects.filter(pk=item.pk).update(**fields)


class _ResultWriter:
    """Results into the registry as they arrive, in small transactions (progress stays live)."""

    FIELDS = [
        "outcome",
        "state",
        "from_version",
        "to_version",
        "migrations_executed",
        "duration_ms",
        "error_code",
        "error_message",
        "finished_at",
    ]
    EVERY_SECONDS = 0.25
    EVERY_ROWS = 200

    def __init__(self, run: MigrationRun, items: dict[str, MigrationRunAffiliate]):
        self.run = run
        self.items = items
        self.buffer: list[tuple[MigrationRunAffiliate, RunnerResult]] = []
        self.flushed = time.monotonic()

    def add(self, result: RunnerResult) -> None:
        item = self.items[result.id]
        if result.outcome == "not_started":  # an earlier failure stopped the batch: still to do
            item.outcome = Outcome.PENDING
        else:
            item.outcome = Outcome.SUCCEEDED if result.ok else Outcome.FAILED
            item.state = result.state
            # Where Flyway found the database (on a failure without that: the registry's last word).
            found = result.initial_version or result.version or item.affiliate.schema_version
            item.from_version = item.from_version or found or ""
            item.to_version = result.version or (found if not result.ok else "") or ""
            item.migrations_executed = result.migrations_executed
            item.duration_ms = result.millis
            item.error_code = result.error.error_code[:100] if result.error else ""
            item.error_message = result.error.flyway_message if result.error else ""
            item.finished_at = timezone.now()
        self.buffer.append((item, result))
        if len(self.buffer) >= self.EVERY_ROWS or time.monotonic() - self.flushed >= self.EVERY_SECONDS:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        with transaction.atomic():
            MigrationRunAffiliate.objects.bulk_update([item for item, _ in self.buffer], self.FIELDS)
            # The registry follows each affiliate as it completes (what the admin shows and --behind reads).
            versions = [
                Affiliate(pk=item.affiliate_id, schema_version=result.version)
                for item, result in self.buffer
                if result.ok and result.version
            ]
            if versions:
                Affiliate.objects.bulk_update(versions, ["schema_version"])
            _announce(self.run.pk)
        self.buffer.clear()
        self.flushed = time.monotonic()


# --- looking without touching ---


def dry_run(affiliates: Iterable[Affiliate], *, parallel: int = 4) -> list[dict]:
    """Per affiliate: the current version, the target and the scripts migrate would run. Changes nothing."""
    affiliates = [a for a in affiliates if a.database_server and a.database_name]
    targets = {str(a.pk): on_database(server_admin_target(a.database_server), a.database_name) for a in affiliates}
    results = run_many("info", targets, kind="application", threads=threads_for(parallel))
    latest = flyway.latest_version("application")
    rows = []
    for affiliate in affiliates:
        result = results[str(affiliate.pk)]
        rows.append(
            {
                "affiliate": affiliate.slug,
                "server": affiliate.database_server.name,
                "current": result.version,
                "target": latest,
                "scripts": list(result.pending_scripts),
                "error": str(result.error) if result.error else "",
            }
        )
    return rows
