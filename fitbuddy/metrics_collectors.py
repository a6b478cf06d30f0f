"""What ``/metrics`` reads when it is scraped: the registry's figures and the task queue, as bounded aggregates.

Each scrape runs a fixed number of small queries, whatever the number of gyms — four on the
management database (affiliates by status, migration runs by status, the last 24 hours' event
outcomes by step, backup ages) and one Redis pipeline (queue lengths and task outcomes). Nothing
loops over gyms, and no label names one: statuses, steps and outcomes are the code's own short lists.

Task outcomes are counted by the worker (``fitbuddy/task_signals.py``) in a Redis hash, one field per
task name and outcome, and read here: the worker's processes come and go and run on other machines,
while the hash is one place every web process can read at scrape time.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from redis import Redis

log = logging.getLogger(__name__)

#: The Redis hash the worker counts task outcomes in (fields ``<task name>|<outcome>``).
TASK_OUTCOMES_KEY = "fitbuddy:metrics:task_outcomes"
TASK_OUTCOMES = ("succeeded", "failed", "retried")
#: A task name as FitBuddy registers them (a short list fixed by the code); anything else is ``other``.
TASK_NAME_RE = re.compile(r"^affiliates\.tasks\.[a-z_]{1,60}$")
#: The steps an operation records (affiliates/operations); moves record steps named ``move…``.
EVENT_STEPS = frozenset(
    {
        "requested",
        "enqueue",
        "requeued",
        "create_role",
        "create_database",
        "migrate",
        "grant_privileges",
        "owner_login",
        "invite_owner",
        "activate",
        "suspend",
        "resume",
        "backup",
        "drop_database",
        "restore",
    }
)
MOVE_STEP_RE = re.compile(r"^move[a-z_]{0,36}$")
#: A gym whose newest good backup is older than this is overdue (a daily backup, and two hours' slack).
#: Kombu's Redis transport keeps a queue's priorities in lists named ``<queue>\x06\x16<priority>``.
PRIORITY_SEPARATOR = "\x06\x16"


def bounded_step(step: str) -> str:
    return step if step in EVENT_STEPS or MOVE_STEP_RE.match(step) else "other"


def bounded_task(name: str) -> str:
    return name if TASK_NAME_RE.match(name) else "other"


def _rows(query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with connections["default"].cursor() as cursor:
        cursor.execute(query, list(params))
        return list(cursor.fetchall())


@dataclass(frozen=True)
class BackupAges:
    """The active gyms' backups, at a glance."""

    oldest_seconds: float | None  # age of the oldest newest-good-backup among active gyms that have one
    overdue: int  # active gyms whose newest good backup is late, or that have none and were active that long
    never: int  # active gyms with no good backup, active longer than BACKUP_LATE_HOURS
    drill_failed: int  # 1 when the last restore drill failed
    drill_age_seconds: float | None  # how long ago the last restore drill started


def backup_ages() -> BackupAges:
    """How old the active gyms' backups are, from the registry's backups (``backup_status.backup_overview``:
    two queries, whatever the number of gyms)."""
    from affiliates.operations.backup_status import backup_overview

    overview = backup_overview()
    return BackupAges(
        oldest_seconds=overview.oldest_last_good_age_seconds,
        overdue=overview.late + overview.missing,
        never=overview.missing,
        drill_failed=int(overview.last_drill_outcome == "failed"),
        drill_age_seconds=overview.last_drill_age_seconds,
    )


class RegistryCollector(Collector):
    """Gyms by status, fleet migration runs by status, event outcomes of the last 24 h, backup ages."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from affiliates.models import Affiliate, MigrationRun

        try:
            affiliates = dict(_rows("SELECT status, count(*) FROM affiliate GROUP BY status"))
            runs = dict(_rows("SELECT status, count(*) FROM migration_run GROUP BY status"))
            events = _rows(
                "SELECT step, outcome, count(*) FROM affiliate_event"
                " WHERE created_at > now() - interval '24 hours' GROUP BY step, outcome"
            )
            backups = backup_ages()
        except Exception as exc:  # the scrape still answers, and says this part failed
            log.warning("metrics: the registry could not be read: %s", type(exc).__name__)
            yield _scrape_error("registry", 1)
            return
        yield _scrape_error("registry", 0)
        yield _by("fitbuddy_affiliates", "Gyms registered, by status.", "status", Affiliate.Status.values, affiliates)
        yield _by(
            "fitbuddy_migration_runs", "Fleet migration runs, by status.", "status", MigrationRun.Status.values, runs
        )
        outcomes = GaugeMetricFamily(
            "fitbuddy_affiliate_events_24h",
            "Steps of operations on gyms (provisioning, suspend, archive, restore, moves…) recorded in the last"
            " 24 hours, by step and outcome.",
            labels=["step", "outcome"],
        )
        summed: dict[tuple[str, str], int] = {}
        for step, outcome, count in events:
            key = (bounded_step(str(step)), str(outcome))
            summed[key] = summed.get(key, 0) + int(count)
        for (step, outcome), count in sorted(summed.items()):
            outcomes.add_metric([step, outcome], count)
        yield outcomes
        yield from _backup_families(backups)


def _by(name: str, documentation: str, label: str, values: Iterable[str], counts: dict[Any, Any]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for value in values:  # every known value, zeros too: a status that empties shows 0, not a gap
        family.add_metric([value], int(counts.get(value, 0)))
    return family


def _backup_families(backups: BackupAges) -> Iterator[GaugeMetricFamily]:
    oldest = GaugeMetricFamily(
        "fitbuddy_backup_oldest_age_seconds",
        "Age of the oldest last-good-backup among active gyms that have one (NaN when none has).",
    )
    oldest.add_metric([], backups.oldest_seconds if backups.oldest_seconds is not None else float("nan"))
    yield oldest
    overdue = GaugeMetricFamily(
        "fitbuddy_backup_overdue_affiliates",
        "Active gyms whose last good backup is older than BACKUP_LATE_HOURS (or, active that long, have none).",
    )
    overdue.add_metric([], backups.overdue)
    yield overdue
    never = GaugeMetricFamily(
        "fitbuddy_backup_missing_affiliates", "Active gyms with no good backup, active longer than BACKUP_LATE_HOURS."
    )
    never.add_metric([], backups.never)
    yield never
    drill = GaugeMetricFamily("fitbuddy_backup_drill_last_failed", "1 when the last restore drill failed.")
    drill.add_metric([], backups.drill_failed)
    yield drill
    drill_age = GaugeMetricFamily(
        "fitbuddy_backup_drill_age_seconds", "How long ago the last restore drill started (NaN when none ran)."
    )
    drill_age.add_metric([], backups.drill_age_seconds if backups.drill_age_seconds is not None else float("nan"))
    yield drill_age


def queue_names() -> list[str]:
    """The queues Celery uses: its default queue and any configured ones (a short list from settings)."""
    from celery import current_app

    names = {current_app.conf.task_default_queue or "celery"}
    configured = current_app.conf.task_queues or ()
    names.update(getattr(queue, "name", str(queue)) for queue in configured)
    return sorted(names)


def _priority_steps() -> list[int]:
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS or {}
    return [int(step) for step in options.get("priority_steps", (0, 3, 6, 9))]


def _redis() -> Redis:
    timeout = settings.QUEUE_CONNECT_TIMEOUT
    return Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=timeout, socket_timeout=timeout)


class CeleryCollector(Collector):
    """Queue depth (LLEN of each queue's lists), messages taken but not acknowledged, and task outcomes."""

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        names, steps = queue_names(), _priority_steps()
        try:
            pipe = _redis().pipeline(transaction=False)
            for name in names:
                for step in steps:
                    pipe.llen(f"{name}{PRIORITY_SEPARATOR}{step}" if step else name)
            pipe.hlen("unacked")
            pipe.hgetall(TASK_OUTCOMES_KEY)
            answers = pipe.execute()
        except Exception as exc:
            log.warning("metrics: the task queue could not be read: %s", type(exc).__name__)
            yield _scrape_error("queue", 1)
            return
        yield _scrape_error("queue", 0)
        depth = GaugeMetricFamily("fitbuddy_celery_queue_length", "Tasks waiting in a Celery queue.", labels=["queue"])
        for index, name in enumerate(names):
            depth.add_metric([name], sum(int(n) for n in answers[index * len(steps) : (index + 1) * len(steps)]))
        yield depth
        unacked = GaugeMetricFamily(
            "fitbuddy_celery_unacked", "Tasks a worker has taken and not yet acknowledged (running or reserved)."
        )
        unacked.add_metric([], int(answers[-2]))
        yield unacked
        yield _outcomes(answers[-1])


def _outcomes(fields: dict[bytes, bytes]) -> CounterMetricFamily:
    family = CounterMetricFamily(
        "fitbuddy_celery_tasks",
        "Tasks that ended, by task name and outcome (counted by the workers).",
        labels=["task", "outcome"],
    )
    summed: dict[tuple[str, str], int] = {}
    for field, value in fields.items():
        name, _, outcome = field.decode(errors="replace").rpartition("|")
        if outcome not in TASK_OUTCOMES:
            continue
        key = (bounded_task(name), outcome)
        summed[key] = summed.get(key, 0) + int(value)
    for (name, outcome), count in sorted(summed.items()):
        family.add_metric([name, outcome], count)
    return family


def _scrape_error(source: str, failed: int) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        f"fitbuddy_metrics_{source}_scrape_failed", f"1 when this scrape could not read the {source} (see the log)."
    )
    family.add_metric([], failed)
    return family
