"""The staff audit trail: every staff operation, from the command center or a command, append-only.

Services record themselves (provision, retry, suspend, resume, archive, migrate, check, membership
granted or revoked), so no path around the admin escapes the trail; every change the command center
makes to a model is recorded with its before and after (``affiliates/admin/audited.py``,
``changes.py``). Rows are never changed: the table's triggers refuse UPDATE, DELETE and TRUNCATE,
and the admin offers neither. Each row is chained to the one before it by a SHA-256 the database
computes; ``chain.py`` recomputes the chain (``manage.py audit_verify``).
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from affiliates.errors import describe
from affiliates.models import StaffAudit


def command_actor() -> str:
    """Who runs a management command: the operating-system login (commands have no web user)."""
    try:
        return f"{getpass.getuser()} (shell)"
    except (KeyError, OSError):
        return "unknown (shell)"


def audit_record(
    *,
    actor: str,
    channel: str,
    action: str,
    target: str = "",
    outcome: str,
    detail: str = "",
    changes: dict[str, Any] | None = None,
) -> StaffAudit:
    """One record. The database gives it its time and its place and hash in the chain."""
    return StaffAudit.objects.create(
        actor=(actor or "unknown")[:150],
        channel=channel,
        action=action[:40],
        target=target[:200],
        outcome=outcome,
        detail=detail,
        changes=changes,
    )


@contextmanager
def audited(action: str, *, actor: str, channel: str, target: str, detail: str = "") -> Iterator[None]:
    """Record the block's outcome (``succeeded``, or ``failed`` with the error) once it ends."""
    try:
        yield
    except Exception as exc:
        audit_record(
            actor=actor,
            channel=channel,
            action=action,
            target=target,
            outcome=StaffAudit.Outcome.FAILED,
            detail=describe(exc),
        )
        raise
    audit_record(
        actor=actor, channel=channel, action=action, target=target, outcome=StaffAudit.Outcome.SUCCEEDED, detail=detail
    )
