"""manage.py backup_affiliate SLUG: a checked backup (S3 or the backup folder); nothing is dropped."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from affiliates.audit import command_actor
from affiliates.errors import OperationError
from affiliates.operations import lifecycle


class Command(BaseCommand):
    help = "Back up an affiliate's database (pg_dump, checked before it counts) without changing anything."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug")

    def handle(self, *args: Any, slug: str, **options: Any) -> None:
        try:
            backup = lifecycle.affiliate_backup(slug=slug, requested_by=command_actor(), channel="command")
        except OperationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Backed up {slug}: {backup}")
