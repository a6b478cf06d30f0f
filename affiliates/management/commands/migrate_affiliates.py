"""manage.py migrate_affiliates: bring affiliate databases to the latest version (or check them)."""

from __future__ import annotations

import json
import sys
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from affiliates.audit import command_actor
from affiliates.errors import QueueUnavailable
from affiliates.infra import flyway
from affiliates.models import Affiliate, MigrationRun, MigrationRunAffiliate, StaffAudit
from affiliates.operations import fleet


class Command(BaseCommand):
    help = (
        "Bring every affiliate database (active and suspended) to the latest sql/application version "
        "with Flyway, through the Celery worker: the provisioning template first, then the affiliates "
        "in waves, one Flyway JVM per batch. Without --wait it prints the run id and returns; "
        "--check reports drift, --dry-run shows what would run."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        select = parser.add_argument_group("which affiliates (default: every one with a database)")
        select.add_argument("--affiliate", action="append", default=[], metavar="SLUG", help="only this one (repeat)")
        select.add_argument("--server", metavar="NAME", help="only affiliates on this database server")
        select.add_argument("--behind", action="store_true", help="only those the registry shows behind the latest")
        how = parser.add_argument_group("strategy")
        how.add_argument("--canary", type=int, default=0, metavar="N", help="migrate N first; stop if any fails")
        how.add_argument("--wave-size", type=int, metavar="N", help="then N affiliates per wave (default: one wave)")
        how.add_argument(
            "--parallel",
            type=int,
            default=4,
            metavar="N",
            help="databases at once per server (capped by FLEET_CONNECTIONS_PER_SERVER; default 4)",
        )
        how.add_argument(
            "--on-error",
            choices=MigrationRun.OnError.values,
            default=MigrationRun.OnError.STOP,
            help="after a failure: start no new database (stop, the default) or go on (continue)",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--dry-run", action="store_true", help="show versions and scripts; change nothing")
        mode.add_argument("--check", action="store_true", help="Flyway validate each; exit 1 unless all current")
        mode.add_argument("--resume", type=int, metavar="RUN_ID", help="continue a stopped or interrupted run")
        mode.add_argument("--follow", type=int, metavar="RUN_ID", help="follow a run that is under way")
        parser.add_argument("--wait", action="store_true", help="follow the run to its end with a progress bar")
        parser.add_argument("--timeout", type=float, default=3600, help="seconds to follow before giving up")
        parser.add_argument("--json", action="store_true", help="print the outcome as JSON (no progress bar)")

    def handle(self, *args: Any, **options: Any) -> None:
        self.as_json: bool = options["json"]
        actor = command_actor()
        try:
            if options["follow"] is not None:
                return self.follow(self.run_get(options["follow"]), options["timeout"])
            if options["resume"] is not None:
                run = fleet.run_resume(options["resume"], started_by=actor, channel=StaffAudit.Channel.COMMAND)
                return self.started(run, wait=options["wait"], timeout=options["timeout"])
            strategy = fleet.Strategy(
                canary=options["canary"],
                wave_size=options["wave_size"],
                parallel=options["parallel"],
                on_error=options["on_error"],
            )
            strategy.check()
            affiliates = list(
                fleet.affiliates_select(slugs=options["affiliate"], server=options["server"], behind=options["behind"])
            )
            if options["dry_run"]:
                return self.dry_run(affiliates, strategy)
            kind = MigrationRun.Kind.CHECK if options["check"] else MigrationRun.Kind.MIGRATE
            run = fleet.run_create(
                kind, affiliates, strategy=strategy, started_by=actor, channel=StaffAudit.Channel.COMMAND
            )
        except (fleet.FleetError, QueueUnavailable) as exc:
            raise CommandError(str(exc)) from exc
        # A check answers a question: it is always followed to its end.
        return self.started(run, wait=options["wait"] or options["check"], timeout=options["timeout"])

    def run_get(self, run_id: int) -> MigrationRun:
        run = MigrationRun.objects.filter(pk=run_id).first()
        if run is None:
            raise CommandError(f"no migration run {run_id}")
        return run

    def started(self, run: MigrationRun, *, wait: bool, timeout: float) -> None:
        if not wait:
            progress = fleet.run_progress(run)
            if self.as_json:
                self.stdout.write(json.dumps({"run": run.pk, "status": run.status, "affiliates": progress.total}))
            else:
                self.stdout.write(
                    f"Run {run.pk} queued: {run.get_kind_display().lower()} of {progress.total} affiliates "
                    f"to V{run.target_version} ({fleet.strategy_describe(run)}).\n"
                    f"Follow it: manage.py migrate_affiliates --follow {run.pk}"
                )
            return
        self.follow(run, timeout)

    # --- following a run ---

    def follow(self, run: MigrationRun, timeout: float) -> None:
        bar = _ProgressBar(self.stdout, enabled=not self.as_json)
        deadline = time.monotonic() + timeout
        # Woken by the worker's notifications as results are recorded; at least once a second
        # anyway, for the rate and ETA.
        for _ in fleet.run_changes(run.pk, timeout=1.0):
            run.refresh_from_db()
            progress = fleet.run_progress(run)
            bar.show(progress)
            if run.finished:
                break
            if time.monotonic() > deadline:
                bar.end()
                raise CommandError(
                    f"run {run.pk} is still {run.status} after {timeout:.0f} s; "
                    f"follow it with --follow {run.pk} (is a Celery worker running?)"
                )
        bar.end()
        self.summary(run, progress)

    def summary(self, run: MigrationRun, progress: fleet.Progress) -> None:
        items = list(run.items.select_related("affiliate").order_by("wave", "affiliate__schema_name"))
        not_current = [i for i in items if i.state and i.state != MigrationRunAffiliate.State.CURRENT]
        problems = [i for i in items if i.outcome in (MigrationRunAffiliate.Outcome.FAILED, "busy")]
        if self.as_json:
            self.stdout.write(
                json.dumps(
                    {
                        "run": run.pk,
                        "kind": run.kind,
                        "status": run.status,
                        "detail": run.status_detail,
                        "target_version": run.target_version,
                        "counts": {
                            "total": progress.total,
                            "succeeded": progress.succeeded,
                            "failed": progress.failed,
                            "skipped": progress.skipped,
                            "busy": progress.busy,
                            "pending": progress.pending,
                        },
                        "affiliates": [
                            {
                                "affiliate": i.affiliate.slug,
                                "outcome": i.outcome,
                                "state": i.state,
                                "from": i.from_version,
                                "to": i.to_version,
                                "duration_ms": i.duration_ms,
                                "error_code": i.error_code,
                                "error": i.error_message,
                            }
                            for i in items
                        ],
                    },
                    indent=2,
                )
            )
        else:
            self.stdout.write(
                f"Run {run.pk} {run.status}: {progress.succeeded} succeeded, {progress.failed} failed, "
                f"{progress.skipped} skipped, {progress.busy} busy, {progress.pending} not started "
                f"(target V{run.target_version})" + (f" — {run.status_detail}" if run.status_detail else "")
            )
            if run.kind == MigrationRun.Kind.CHECK:
                states: dict[str, int] = {}
                for item in items:
                    states[item.state or item.outcome] = states.get(item.state or item.outcome, 0) + 1
                self.stdout.write("  " + ", ".join(f"{n} {state}" for state, n in sorted(states.items())))
                for item in not_current:
                    self.stdout.write(
                        f"  {item.affiliate.slug}: {item.state} (at V{item.to_version or '?'})"
                        + (f" [{item.error_code}] {item.error_message}" if item.error_code else "")
                    )
            for item in problems:
                self.stdout.write(
                    f"  {item.affiliate.slug}: {item.outcome} at V{item.from_version or '?'}"
                    f" [{item.error_code}] {item.error_message}"
                )
            if run.status != MigrationRun.Status.SUCCEEDED:
                self.stdout.write(f"Resume it: manage.py migrate_affiliates --resume {run.pk} --wait")
        if run.status != MigrationRun.Status.SUCCEEDED or problems:
            raise CommandError(f"run {run.pk} {run.status}: {run.status_detail}", returncode=1)
        if run.kind == MigrationRun.Kind.CHECK and not_current:
            raise CommandError(f"{len(not_current)} affiliate database(s) not current", returncode=1)

    # --- dry run ---

    def dry_run(self, affiliates: list[Affiliate], strategy: fleet.Strategy) -> None:
        rows = fleet.dry_run(affiliates, parallel=strategy.parallel)
        if self.as_json:
            self.stdout.write(json.dumps({"dry_run": True, "affiliates": rows}, indent=2))
        else:
            latest = flyway.latest_version("application")
            waves = fleet.waves_assign(len(rows), strategy)
            self.stdout.write(f"Dry run: {len(rows)} affiliates, target V{latest}; nothing is changed.")
            for row, wave in zip(rows, waves, strict=True):
                label = "canary" if wave == 0 else f"wave {wave}"
                if row["error"]:
                    self.stdout.write(f"  {row['affiliate']} ({label}): cannot read: {row['error']}")
                elif row["scripts"]:
                    self.stdout.write(
                        f"  {row['affiliate']} ({label}): V{row['current']} → V{latest}: {', '.join(row['scripts'])}"
                    )
                else:
                    self.stdout.write(f"  {row['affiliate']} ({label}): V{row['current']}, nothing to run")
        if any(row["error"] for row in rows):
            raise CommandError("some affiliate databases could not be read", returncode=1)


class _ProgressBar:
    """done/total, failed, rate and ETA on one line (redrawn on a terminal, a line per 5 % otherwise)."""

    WIDTH = 30

    def __init__(self, stream: OutputWrapper, *, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.tty = enabled and hasattr(stream, "isatty") and stream.isatty()
        self.started = time.monotonic()
        self.first_done: int | None = None
        self.last_line = ""
        self.last_step = -1

    def show(self, progress: fleet.Progress) -> None:
        if not self.enabled:
            return
        if self.first_done is None:
            self.first_done = progress.done
        total = max(progress.total, 1)
        filled = int(self.WIDTH * progress.done / total)
        elapsed = time.monotonic() - self.started
        rate = (progress.done - self.first_done) / elapsed if elapsed > 0 else 0.0
        eta = f"{(progress.total - progress.done) / rate:.0f}s" if rate > 0 else "?"
        line = (
            f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {progress.done}/{progress.total} done, "
            f"{progress.failed} failed, {rate:.1f}/s, ETA {eta}"
        )
        if self.tty:
            self.stream.write("\r" + line.ljust(len(self.last_line)), ending="")
            self.stream.flush()
        else:
            step = 20 * progress.done // total
            if step != self.last_step:
                self.stream.write(line)
                self.last_step = step
        self.last_line = line

    def end(self) -> None:
        if self.tty and self.last_line:
            self.stream.write("")
        sys.stdout.flush()
