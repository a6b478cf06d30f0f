"""The ``--affiliate SLUG`` option of management commands that work on one affiliate's data: the
command runs inside that affiliate's context, so the router sends its queries to the gym's database."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from affiliates.models import Affiliate
from affiliates.routing.context import affiliate_context


class AffiliateCommand(BaseCommand):
    """A command on one active affiliate's data (``--affiliate SLUG``)."""

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> Any:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument("--affiliate", required=True, metavar="SLUG", help="the affiliate whose data to use")
        return parser

    def execute(self, *args: Any, **options: Any) -> str | None:
        slug = options["affiliate"]
        affiliate = Affiliate.objects.select_related("database_server").filter(schema_name=slug).first()
        if affiliate is None:
            raise CommandError(f"no affiliate with slug {slug!r}")
        if affiliate.status != Affiliate.Status.ACTIVE:
            raise CommandError(f"{slug} is {affiliate.status}, not active")
        with affiliate_context(affiliate):
            return super().execute(*args, **options)
