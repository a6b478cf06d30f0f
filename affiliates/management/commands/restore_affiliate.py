"""manage.py restore_affiliate SLUG [--backup LOCATION] [--server NAME]: an archived gym back, intact."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from affiliates.audit import command_actor
from affiliates.errors import OperationError
from affiliates.models import Affiliate
from affiliates.operations import lifecycle
from affiliates.operations.affiliate_database import server_of


class Command(BaseCommand):
    help = (
        "Restore an archived affiliate from its newest backup (or --backup s3://bucket/key or a file) onto a "
        "database server (placement chooses, or --server): role, database, data, grants, Flyway if the backup "
        "is older than the code; then the affiliate is active again."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug")
        parser.add_argument(
            "--backup", metavar="LOCATION", help="s3://bucket/key or a local file (default: the newest)"
        )
        parser.add_argument("--server", metavar="NAME", help="the database server to restore onto")

    def handle(self, *args: Any, slug: str, backup: str | None, server: str | None, **options: Any) -> None:
        affiliate = Affiliate.objects.filter(schema_name=slug).first()
        if affiliate is None:
            raise CommandError(f"no affiliate with slug {slug!r}")
        try:
            restored = lifecycle.affiliate_restore(
                affiliate_id=affiliate.pk, backup=backup, server_name=server, requested_by=command_actor()
            )
        except OperationError as exc:
            raise CommandError(str(exc)) from exc
        restored.refresh_from_db()
        self.stdout.write(
            f"Restored {slug} onto {server_of(restored).name} at V{restored.schema_version}: {restored.status_detail}"
        )
