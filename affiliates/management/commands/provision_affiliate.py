import json
import time
from argparse import ArgumentParser
from typing import Any

from celery.result import AsyncResult
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from affiliates.audit import command_actor
from affiliates.errors import OperationError
from affiliates.models import Affiliate, AffiliateEvent
from affiliates.operations import provisioning

TERMINAL = {Affiliate.Status.ACTIVE, Affiliate.Status.FAILED}


class Command(BaseCommand):
    help = (
        "Onboard an affiliate: register it and provision its own database, role and Flyway schema "
        "through the Celery worker. With --wait, print each step as it completes."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", help="lower-case letters, digits and underscores, e.g. ironworks")
        parser.add_argument("--name", help="the gym's name, e.g. 'Ironworks CrossFit'")
        parser.add_argument("--domain", help="the host the gym is reached on, e.g. ironworks.localhost")
        parser.add_argument("--owner-email", help="login of the gym's owner (created if missing)")
        parser.add_argument("--seed", action="store_true", help="apply the local data seed (local/test only)")
        parser.add_argument(
            "--server", metavar="NAME", help="the database server (default: the accepting one with room, least used)"
        )
        parser.add_argument("--retry", action="store_true", help="provision an existing affiliate again")
        parser.add_argument("--wait", action="store_true", help="wait until the affiliate is active or failed")
        parser.add_argument("--timeout", type=float, default=300, help="seconds --wait waits (default 300)")
        parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
        parser.add_argument(
            "--requested-by", default="", help="who asked (event log and audit trail; default: your login)"
        )

    def handle(self, *args: Any, slug: str, **options: Any) -> None:
        requested_by = options["requested_by"] or command_actor()
        if options["retry"]:
            affiliate = Affiliate.objects.filter(schema_name=slug).first()
            if affiliate is None:
                raise CommandError(f"no affiliate with slug {slug!r}")
            try:
                task_id = provisioning.affiliate_retry(affiliate_id=affiliate.pk, requested_by=requested_by)
            except OperationError as exc:
                raise CommandError(str(exc)) from exc
        else:
            missing = [f"--{flag}" for flag in ("name", "domain") if not options[flag]]
            if missing:
                raise CommandError(f"{' and '.join(missing)} required for a new affiliate")
            try:
                affiliate = provisioning.affiliate_request(
                    slug=slug,
                    name=options["name"],
                    domain=options["domain"],
                    owner_email=options["owner_email"],
                    seed=options["seed"],
                    server_name=options["server"],
                    requested_by=requested_by,
                    enqueue=False,
                )
            except ValidationError as exc:
                raise CommandError(_format_errors(exc)) from exc
            # Enqueued here, after affiliate_request's transaction committed, to know the task id.
            try:
                task_id = provisioning.affiliate_enqueue(affiliate_id=affiliate.pk, requested_by=requested_by)
            except OperationError as exc:  # the queue is down: registered, and the reconciler queues it
                raise CommandError(str(exc)) from exc
        if not options["json"]:
            self.stdout.write(f"{affiliate.slug}: queued for provisioning (task {task_id})")
        if not options["wait"]:
            if options["json"]:
                self.stdout.write(json.dumps({"slug": affiliate.slug, "status": affiliate.status, "task": task_id}))
            return
        self._wait(affiliate, task_id, options)

    def _wait(self, affiliate: Affiliate, task_id: str, options: dict[str, Any]) -> None:
        deadline = time.monotonic() + options["timeout"]
        seen = set(AffiliateEvent.objects.filter(affiliate=affiliate).values_list("pk", flat=True))
        result: AsyncResult[Any] = AsyncResult(task_id)
        events: list[AffiliateEvent] = []
        while True:
            for event in AffiliateEvent.objects.filter(affiliate=affiliate).exclude(pk__in=seen).order_by("pk"):
                seen.add(event.pk)
                events.append(event)
                if not options["json"]:
                    self._print_event(event)
            affiliate.refresh_from_db()
            if result.ready() and affiliate.status in TERMINAL or affiliate.status == Affiliate.Status.ACTIVE:
                break
            if time.monotonic() > deadline:
                raise CommandError(
                    f"{affiliate.slug}: still {affiliate.status} after {options['timeout']:.0f} s; "
                    "is a Celery worker running? (make run, or celery -A fitbuddy worker)"
                )
            time.sleep(0.1)
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "slug": affiliate.slug,
                        "status": affiliate.status,
                        "detail": affiliate.status_detail,
                        "database": affiliate.database_name,
                        "schema_version": affiliate.schema_version,
                        "events": [
                            {"step": e.step, "outcome": e.outcome, "duration_ms": e.duration_ms, "error": e.error}
                            for e in events
                        ],
                    },
                    indent=2,
                )
            )
        if affiliate.status != Affiliate.Status.ACTIVE:
            raise CommandError(f"{affiliate.slug}: provisioning failed: {affiliate.status_detail}")
        if not options["json"]:
            domains = ", ".join(affiliate.domains.values_list("domain", flat=True))
            self.stdout.write(
                self.style.SUCCESS(
                    f"{affiliate.slug}: active — database {affiliate.database_name} at version "
                    f"{affiliate.schema_version}, reached on {domains}"
                )
            )

    def _print_event(self, event: AffiliateEvent) -> None:
        line = f"  {event.step:<18} {event.outcome:<9} {event.duration_ms or 0:>6} ms"
        if event.outcome == AffiliateEvent.Outcome.FAILED:
            self.stdout.write(self.style.ERROR(f"{line}  {event.error}"))
        else:
            self.stdout.write(line)


def _format_errors(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items())
    return " ".join(exc.messages)
