"""Writes to a gym's members (the current affiliate's database)."""

from __future__ import annotations

from typing import Any

from gym.members.models import Member


def member_save(*, member: Member | None = None, fields: dict[str, Any]) -> Member:
    """Create a member (``member`` None) or update one with validated ``fields``."""
    member = member or Member()
    for name, value in fields.items():
        setattr(member, name, value)
    member.save()
    return member


def member_active_set(*, member: Member, active: bool) -> Member:
    """Deactivate a member (kept, with their results, but off the class lists) or reactivate one."""
    member.is_active = active
    member.save(update_fields=["is_active", "updated_at"])
    return member
