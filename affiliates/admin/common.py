"""What every command-center page shares: the permission check in the code that acts, the
one-line report of a bulk action, and the coloured badge (its colours live in command-center.css)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from affiliates.audit import audit_record
from affiliates.models import StaffAudit

#: The stylesheet every model admin that shows badges loads (``Media.css``).
CSS = {"all": ["affiliates/command-center.css"]}


def require(request: HttpRequest, permission: str) -> None:
    """The check again, in the code that acts: an action offered or not, no permission, no change."""
    if not request.user.has_perm(permission):
        audit_record(
            actor=request.user.get_username(),
            channel=StaffAudit.Channel.ADMIN,
            action=permission.split(".")[1],
            outcome=StaffAudit.Outcome.REFUSED,
            detail="permission denied",
        )
        raise PermissionDenied(f"you need the {permission} permission")


def report(
    modeladmin: admin.ModelAdmin[Any],
    request: HttpRequest,
    done: int,
    verb: str,
    failures: list[str],
    noun: str = "affiliate",
) -> None:
    """'3 affiliates suspended.' and one error message for each failure."""
    if done:
        modeladmin.message_user(request, f"{done} {noun}{'s' if done != 1 else ''} {verb}.", messages.SUCCESS)
    for failure in failures:
        modeladmin.message_user(request, failure, messages.ERROR)


def badge(text: str, tone: str, *, title: str = "", strong: bool = True) -> SafeString:
    """A word in a tone (``ok``, ``bad``, ``warn``, ``muted``, ``info``, or ``pill`` on a coloured ground)."""
    tag = "strong" if strong else "span"
    return format_html('<{} class="fb-{}" title="{}">{}</{}>', tag, tone, title or text, text, tag)
