"""manage.py backups_prune [--dry-run]: apply the retention policy to every gym's backups."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from affiliates.audit import audited, command_actor
from affiliates.operations import backup_retention


class Command(BaseCommand):
    help = (
        "Delete folder backups beyond the retention policy (BACKUP_KEEP_DAILY/WEEKLY/MONTHLY) and mark S3 backups "
        "the bucket's lifecycle rules expired; a gym's newest good backup and archive backups are kept."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="say what would be pruned; change nothing")

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        verb = "would prune" if dry_run else "pruned"
        try:
            if dry_run:
                report = backup_retention.prune(dry_run=True)
            else:
                with audited("backups_prune", actor=command_actor(), channel="command", target="fleet"):
                    report = backup_retention.prune()
        except Exception as exc:
            raise CommandError(f"pruning failed: {exc}") from exc
        for name in report.deleted:
            self.stdout.write(f"{verb} {name}")
        for name in report.gone:
            self.stdout.write(f"expired in S3: {name}")
        for name in report.pinned:
            self.stdout.write(f"pinned (a gym's newest): {name}")
        self.stdout.write(
            f"{len(report.deleted)} {verb}, {len(report.gone)} expired in S3, {len(report.pinned)} pinned, "
            f"{report.kept} kept."
        )
