"""Shared pieces of management commands: the `--affiliate SLUG` option of commands that work on one
affiliate's data, and a report-and-audit loop for commands that act on many affiliates."""

from collections.abc import Callable, Iterable

from django.core.management.base import BaseCommand, CommandError

from affiliates.audit import audit_record, command_actor
from affiliates.context import affiliate_context
from affiliates.models import Affiliate, StaffAudit


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


def for_each_affiliate(
    command: BaseCommand,
    affiliates: Iterable[Affiliate],
    work: Callable[[Affiliate], str | None],
    *,
    done: str,
    audit_action: str,
    audit_target: str,
) -> None:
    """Do ``work`` on each affiliate, reporting each (``done``, or what ``work`` returns) and going on after a
    failure; audit the whole; CommandError (exit 1) if any failed."""
    failed = 0
    for affiliate in affiliates:
        try:
            outcome = work(affiliate)
        except Exception as exc:  # report it, go on with the others
            failed += 1
            command.stderr.write(f"  {affiliate.slug}: {type(exc).__name__}: {exc}")
            continue
        command.stdout.write(f"  {affiliate.slug}: {outcome or done}")
    audit_record(
        actor=command_actor(),
        channel=StaffAudit.Channel.COMMAND,
        action=audit_action,
        target=audit_target,
        outcome=StaffAudit.Outcome.FAILED if failed else StaffAudit.Outcome.SUCCEEDED,
        detail=f"{failed} failed" if failed else "",
    )
    if failed:
        raise CommandError(f"{failed} affiliate(s) not {done}")
