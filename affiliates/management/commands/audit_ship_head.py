"""``manage.py audit_ship_head``: ship the staff audit chain's head to the Object Lock bucket now."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from affiliates.errors import OperationError
from affiliates.infra import audit_anchor


class Command(BaseCommand):
    help = (
        "Ship the staff audit chain's head to FITBUDDY_AUDIT_ANCHOR_BUCKET (Object Lock, COMPLIANCE mode); "
        "Celery beat does it every AUDIT_ANCHOR_EVERY_SECONDS."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            anchor = audit_anchor.head_ship()
        except OperationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"shipped head #{anchor.chain_seq} {anchor.row_hash} to s3://{audit_anchor.bucket()}/{anchor.key}"
        )
