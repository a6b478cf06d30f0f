"""Management commands that work on one affiliate's data share the `--affiliate SLUG` option."""

from django.core.management.base import BaseCommand, CommandError

from affiliates.context import affiliate_context
from affiliates.models import Affiliate


class AffiliateCommand(BaseCommand):
    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument("--affiliate", required=True, metavar="SLUG", help="the affiliate whose data to use")
        return parser

    def execute(self, *args, **options):
        slug = options["affiliate"]
        affiliate = Affiliate.objects.select_related("database_server").filter(schema_name=slug).first()
        if affiliate is None:
            raise CommandError(f"no affiliate with slug {slug!r}")
        if affiliate.status != Affiliate.Status.ACTIVE:
            raise CommandError(f"{slug} is {affiliate.status}, not active")
        with affiliate_context(affiliate):
            return super().execute(*args, **options)
