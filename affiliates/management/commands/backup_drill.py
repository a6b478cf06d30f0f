"""manage.py backup_drill [--affiliate SLUG]: restore a gym's newest backup into a scratch database and check it."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from affiliates.audit import command_actor
from affiliates.errors import OperationError
from affiliates.models import BackupDrill
from affiliates.operations import restore_drill


class Command(BaseCommand):
    help = (
        "The restore drill: a random active gym's newest good backup (or --affiliate SLUG's) fetched, SHA-256 "
        "checked, restored into a scratch database, checked (Flyway version, every table read), then dropped."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--affiliate", metavar="SLUG", help="drill this gym's newest good backup")

    def handle(self, *args: Any, affiliate: str | None, **options: Any) -> None:
        self.stdout.write(f"Drilling {affiliate or 'a random active gym'}'s newest good backup…")
        try:
            drill = restore_drill.drill_run(slug=affiliate, requested_by=command_actor(), channel="command")
        except OperationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{drill.affiliate.slug}: backup #{drill.backup_id} into {drill.scratch_database} on {drill.server_name}"
        )
        for line in drill.checks.splitlines():
            self.stdout.write(f"  ✓ {line}")
        if drill.outcome != BackupDrill.Outcome.SUCCEEDED:
            raise CommandError(f"drill #{drill.pk} failed: {drill.error}")
        tables = drill.table_rows or {}
        self.stdout.write(
            self.style.SUCCESS(f"Drill #{drill.pk} succeeded: {len(tables)} tables, {sum(tables.values())} rows.")
        )
