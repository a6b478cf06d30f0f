"""manage.py backup_affiliate SLUG: a checked backup (S3 or the backup folder); nothing is dropped."""

from django.core.management.base import BaseCommand, CommandError

from affiliates import backups, locks
from affiliates.audit import audited, command_actor
from affiliates.errors import ProvisioningError
from affiliates.models import Affiliate
from affiliates.placement import on_database, server_admin_target


class Command(BaseCommand):
    help = "Back up an affiliate's database (pg_dump, checked before it counts) without changing anything."

    def add_arguments(self, parser):
        parser.add_argument("slug")

    def handle(self, *args, slug, **options):
        affiliate = Affiliate.objects.select_related("database_server").filter(schema_name=slug).first()
        if affiliate is None:
            raise CommandError(f"no affiliate with slug {slug!r}")
        if affiliate.status not in (Affiliate.Status.ACTIVE, Affiliate.Status.SUSPENDED):
            raise CommandError(f"{slug} is {affiliate.status}: it has no database to back up")
        try:
            with audited("backup", actor=command_actor(), channel="command", target=slug):
                with locks.affiliate_held(affiliate.pk, "back up"):
                    admin = server_admin_target(affiliate.database_server)
                    backup = backups.backup_take(on_database(admin, affiliate.database_name), label=slug)
        except ProvisioningError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Backed up {slug}: {backup}")
