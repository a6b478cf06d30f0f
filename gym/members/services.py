"""Writes to a gym's members (the current affiliate's database)."""

from __future__ import annotations

from typing import Any

from django.db import router, transaction

from gym.members.models import GymEvent, Member


def member_save(*, member: Member | None = None, fields: dict[str, Any]) -> Member:
    """Create a member (``member`` None) or update one with validated ``fields``."""
    member = member or Member()
    for name, value in fields.items():
        setattr(member, name, value)
    member.save()
    return member


def member_active_set(*, member: Member, active: bool, actor: str = "") -> Member:
    """Deactivate a member (kept, with their results, but off the class lists) or reactivate one; a
    change made by someone (``actor``) is kept as an event for the owner."""
    if member.is_active == active:
        return member
    with transaction.atomic(using=router.db_for_write(Member)):
        member.is_active = active
        member.save(update_fields=["is_active", "updated_at"])
        if actor:
            event_record(
                actor=actor,
                kind=GymEvent.Kind.MEMBER_REACTIVATED if active else GymEvent.Kind.MEMBER_DEACTIVATED,
                detail={"member_id": member.pk, "member": str(member), "email": member.email},
            )
    return member


def event_record(*, actor: str, kind: str, detail: dict[str, Any]) -> GymEvent:
    """Keep what someone did for the gym's owner to read (the events page); ``detail`` is JSON."""
    if kind not in GymEvent.Kind.values:
        raise ValueError(f"Unknown event kind {kind!r}")
    return GymEvent.objects.create(actor=actor or "unknown", kind=kind, detail=detail)
