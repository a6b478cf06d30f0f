"""The affiliate's event log: each step of an operation recorded as it happens, and status changes.

Every operation on an affiliate (provision, suspend, resume, archive) runs its steps through a
:class:`StepRecorder`, so staff see what was done, how long it took, who asked and why it failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

from affiliates.errors import describe
from affiliates.models import Affiliate, AffiliateEvent
from affiliates.routing.hosts import routing_changed


@dataclass
class StepRecorder:
    affiliate: Affiliate
    requested_by: str = ""
    progress: Callable[[AffiliateEvent], None] | None = None

    def step(self, name: str, action: Callable[[], bool | str | None], *, status_after: str | None = None) -> None:
        """Run one step and record it: ``skipped`` when the action returns False (its work was already done);
        a string it returns is recorded as the step's detail."""
        started = time.monotonic()
        try:
            did_work = action()
        except Exception as exc:
            self.record(name, AffiliateEvent.Outcome.FAILED, started, error=describe(exc))
            raise
        outcome = AffiliateEvent.Outcome.SKIPPED if did_work is False else AffiliateEvent.Outcome.SUCCEEDED
        if status_after:
            self.set_status(status_after)
        self.record(name, outcome, started, detail=did_work if isinstance(did_work, str) else "")

    def record(self, step: str, outcome: str, started: float, *, error: str = "", detail: str = "") -> None:
        event = AffiliateEvent.objects.create(
            affiliate=self.affiliate,
            step=step,
            outcome=outcome,
            duration_ms=int((time.monotonic() - started) * 1000),
            error=error,
            detail=detail,
            requested_by=self.requested_by,
        )
        if self.progress:
            self.progress(event)

    def set_status(self, status: str, *, detail: str = "", **fields: object) -> None:
        """Move the affiliate to ``status``; every web process routes by it from its next request."""
        self.affiliate.status = status
        self.affiliate.status_detail = detail
        for key, value in fields.items():
            setattr(self.affiliate, key, value)
        Affiliate.objects.filter(pk=self.affiliate.pk).update(
            status=status, status_detail=detail, updated_at=timezone.now(), **fields
        )
        routing_changed()
