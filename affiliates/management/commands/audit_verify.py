"""``manage.py audit_verify``: check the staff audit trail's hash chain, record by record, and against
every head shipped to the Object Lock bucket when one is set."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from affiliates.audit.chain import ChainReport, chain_verify
from affiliates.errors import OperationError
from affiliates.infra import audit_anchor


def _verify_in_one_snapshot(anchors: list[audit_anchor.Anchor]) -> ChainReport:
    """Records, head and anchors compared in one REPEATABLE READ snapshot: rows written meanwhile
    change nothing."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            if not connection.savepoint_ids:  # our own transaction, nothing run in it yet
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            report = chain_verify(cursor)
            report.breaks.extend(audit_anchor.anchors_check(cursor, anchors))
            return report


class Command(BaseCommand):
    help = (
        "Check the staff audit trail's hash chain: every record's hash recomputed, each linked to the one "
        "before it, no place missing, the last one where the chain's head says, and every head shipped to "
        "FITBUDDY_AUDIT_ANCHOR_BUCKET still in the chain. Exits 1 naming each record that breaks it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--without-anchors",
            action="store_true",
            help="do not compare with the heads shipped to S3 (the chain alone: a superuser could rewrite it)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        anchors: list[audit_anchor.Anchor] = []
        checking = bool(settings.AUDIT_ANCHOR_BUCKET) and not options["without_anchors"]
        if checking:
            try:
                anchors = audit_anchor.anchors_read()
            except OperationError as exc:
                raise CommandError(f"cannot read the shipped heads: {exc}") from exc
        report = _verify_in_one_snapshot(anchors)
        if not report.intact:
            for problem in report.breaks:
                self.stderr.write(f"audit chain broken at {problem}")
            raise CommandError(
                f"the staff audit chain is broken in {len(report.breaks)} place(s) ({report.checked} records checked)"
            )
        self.stdout.write(f"audit chain intact: {report.checked} records, head #{report.last_seq} {report.last_hash}")
        if checking:
            self.stdout.write(f"{len(anchors)} shipped head(s) in s3://{settings.AUDIT_ANCHOR_BUCKET} match the chain")
        else:
            self.stdout.write("not compared with shipped heads: no FITBUDDY_AUDIT_ANCHOR_BUCKET (or --without-anchors)")
