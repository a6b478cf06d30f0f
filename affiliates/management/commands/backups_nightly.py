"""manage.py backups_nightly [--now]: tonight's backup pass, at once, in this process."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from affiliates.audit import audited, command_actor
from affiliates.operations import nightly_backups


class Command(BaseCommand):
    help = (
        "Back up, one after another, the gyms whose slot in tonight's window has passed and that have no good "
        "backup since it opened; --now: every active gym without one, whatever its slot or the hour."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--now", action="store_true", help="every active gym not yet backed up tonight")

    def handle(self, *args: Any, now: bool, **options: Any) -> None:
        actor = command_actor()
        counter = {"n": 0}

        def progress(result: nightly_backups.PassResult) -> None:
            counter["n"] += 1
            style = self.style.ERROR if result.outcome == "failed" else self.style.SUCCESS
            line = f"[{counter['n']}] {result.slug}: {result.outcome}" + (
                f" ({result.detail})" if result.detail else ""
            )
            self.stdout.write(style(line))

        with audited("backups_nightly", actor=actor, channel="command", target="fleet", detail="--now" if now else ""):
            results = nightly_backups.nightly_pass(everything=now, requested_by=actor, progress=progress)
            failed = [r for r in results if r.outcome == "failed"]
            taken = sum(r.outcome == "taken" for r in results)
            if not results:
                hint = "" if now else " (--now backs up every one not done tonight.)"
                self.stdout.write(f"No gym is due a backup now.{hint}")
            self.stdout.write(f"{taken} backed up, {len(failed)} failed, {len(results) - taken - len(failed)} skipped.")
            if failed:  # inside: the audit trail records the pass as failed, naming the gyms
                raise CommandError(f"{len(failed)} backup(s) failed: {', '.join(r.slug for r in failed)}")
