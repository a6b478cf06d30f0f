"""manage.py backup_lifecycle [--show]: the backup bucket's lifecycle rules (expiry by retention tier)."""

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from affiliates.audit import audited, command_actor
from affiliates.infra import backups
from affiliates.operations import backup_retention


class Command(BaseCommand):
    help = (
        "Put the lifecycle rules that expire backups by their tier tag on FITBUDDY_BACKUP_BUCKET (daily after "
        "BACKUP_KEEP_DAILY days, weekly after BACKUP_KEEP_WEEKLY weeks, monthly after BACKUP_KEEP_MONTHLY months of "
        "365/12 days), then show what the bucket holds; --show only shows."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--show", action="store_true", help="show the bucket's rules; change nothing")

    def handle(self, *args: Any, show: bool, **options: Any) -> None:
        bucket = settings.BACKUP_BUCKET
        if not bucket:
            raise CommandError(
                "FITBUDDY_BACKUP_BUCKET is not set: folder backups are pruned by manage.py backups_prune"
            )
        try:
            if show:
                rules = backups.lifecycle_get(bucket)
            else:
                with audited("backup_lifecycle", actor=command_actor(), channel="command", target=bucket):
                    rules = backup_retention.lifecycle_apply(bucket)
        except Exception as exc:
            raise CommandError(f"the lifecycle rules of {bucket}: {exc}") from exc
        self.stdout.write(f"{bucket}: {len(rules)} lifecycle rule(s)" + ("" if show else " put"))
        for rule in rules:
            tags = rule.get("Filter", {}).get("And", {}).get("Tags", [])
            what = ", ".join(f"{t['Key']}={t['Value']}" for t in tags) or rule.get("Filter", {}).get("Prefix", "")
            if "Expiration" in rule:
                action = f"expire after {rule['Expiration'].get('Days')} days"
            else:
                days = rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation")
                action = f"abort unfinished uploads after {days} day(s)"
            self.stdout.write(f"  {rule['ID']} [{rule['Status']}] {what}: {action}")
