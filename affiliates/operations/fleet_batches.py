"""A migration run's batch done: its affiliates' locks taken, Flyway run in one JVM, each result recorded."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from affiliates.infra import locks
from affiliates.infra.flyway_runner import RunnerResult, run_many
from affiliates.infra.targets import DatabaseTarget, on_database, server_admin_target
from affiliates.models import Affiliate, MigrationRun, MigrationRunAffiliate

Outcome = MigrationRunAffiliate.Outcome

#: Affiliates with a database a run works on (provisioning brings the others to the latest itself).
WITH_DATABASE = (Affiliate.Status.ACTIVE, Affiliate.Status.SUSPENDED)

#: Connections the fleet runner holds at once per database: one (Flyway's session-level lock,
#: see FleetRunner.configure; with its default transactional lock Flyway opens two).
#: bench/fleet_migrate.py reports the peak against the budget.
FLYWAY_CONNECTIONS_PER_DATABASE = 1


def threads_for(parallel: int) -> int:
    """Databases at once on one server: what was asked, within FLEET_CONNECTIONS_PER_SERVER."""
    per_server: int = settings.FLEET_CONNECTIONS_PER_SERVER
    return max(1, min(parallel, per_server // FLYWAY_CONNECTIONS_PER_DATABASE))


#: The PostgreSQL channel a run's progress is announced on (payload: the run id), so that
#: followers wake when something changed instead of polling.
CHANNEL = "fitbuddy_migration_run"


def announce(run_id: int) -> None:
    """Tell followers the run changed (delivered when the current transaction commits)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, str(run_id)])


def batch_execute(run: MigrationRun, batch: list[MigrationRunAffiliate]) -> None:
    """Run Flyway on the batch's databases whose locks can be had, waiting a bounded time for those another
    operation holds; those still held are recorded ``busy``."""
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
    current: dict[int, Affiliate] = Affiliate.objects.select_related("database_server").in_bulk(
        [item.affiliate_id for item in items]
    )
    targets: dict[str, DatabaseTarget] = {}
    live: list[MigrationRunAffiliate] = []
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


def _item_save(item: MigrationRunAffiliate, **fields: object) -> None:
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

    def __init__(self, run: MigrationRun, items: dict[str, MigrationRunAffiliate]) -> None:
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
            announce(self.run.pk)
        self.buffer.clear()
        self.flushed = time.monotonic()
