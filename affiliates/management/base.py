"""What the registry's management commands share: a report-and-audit loop for commands that act on
many affiliates."""

from collections.abc import Callable, Iterable

from django.core.management.base import BaseCommand, CommandError

from affiliates.audit import audit_record, command_actor
from affiliates.models import Affiliate, StaffAudit


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
