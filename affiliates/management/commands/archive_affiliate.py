"""manage.py archive_affiliate SLUG --yes: the admin's archive action, from the shell."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from affiliates.audit import command_actor
from affiliates.errors import OperationError
from affiliates.models import Affiliate
from affiliates.operations import lifecycle


class Command(BaseCommand):
    help = (
        "Archive an affiliate: a checked backup (S3 with FITBUDDY_BACKUP_BUCKET, else FITBUDDY_BACKUP_DIR), then "
        "its database and role are dropped; the registry row stays, as archived. Needs --yes."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--yes", action="store_true", help="yes, drop the database after the backup")

    def handle(self, *args: Any, slug: str, yes: bool, **options: Any) -> None:
        affiliate = Affiliate.objects.filter(schema_name=slug).first()
        if affiliate is None:
            raise CommandError(f"no affiliate with slug {slug!r}")
        if not yes:
            raise CommandError(
                f"archiving drops {affiliate.database_name} and {affiliate.database_role} after the backup; "
                "add --yes to go ahead"
            )
        try:
            archived = lifecycle.affiliate_archive(affiliate_id=affiliate.pk, requested_by=command_actor())
        except OperationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Archived {slug}: {archived.status_detail or 'nothing to back up'}")
