"""Writes to a gym's logins: invite, change a role, remove, send a link again, and the upgrade's
and provisioning's idempotent "make sure this login exists".

Every function works on the current affiliate's database (``affiliate_context`` or the request's
gym). The rules a gym keeps: an e-mail has one login in the gym, an athlete's login is one of the
gym's members (``gym.members.logins`` invites them), and a gym never loses its last active owner.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, router, transaction
from django.utils import timezone

from gym.accounts.invitations import password_link_send
from gym.accounts.models import GymLogin

Role = GymLogin.Role


@dataclass(frozen=True)
class Gym:
    """What mail about a gym needs: its name and where it is reached."""

    name: str
    base_url: str


def email_normalize(email: str) -> str:
    """The login name of an address: trimmed and lower-case; ValidationError when it is no address."""
    normalized = (email or "").strip().lower()
    validate_email(normalized)
    return normalized


def _last_owner_guard(login: GymLogin, *, new_role: str | None = None, removing: bool = False) -> None:
    if login.role != Role.OWNER or not login.is_active or (new_role == Role.OWNER and not removing):
        return
    others = GymLogin.objects.filter(role=Role.OWNER, is_active=True).exclude(pk=login.pk)
    if not others.exists():
        raise ValidationError(f"{login.email} is the gym's only owner: make another login an owner first.")


def login_link_resend(login: GymLogin, *, gym: Gym) -> str:
    """Mail the login a new link to set its password (an invitation again if it never had one)."""
    if not login.is_active:
        raise ValidationError(f"{login.email} is removed: invite it again instead.")
    invitation = not login.has_usable_password()
    if invitation:
        GymLogin.objects.filter(pk=login.pk).update(invited_at=timezone.now())
    return password_link_send(login, base_url=gym.base_url, gym_name=gym.name, invitation=invitation)


def login_role_change(login: GymLogin, role: str, *, by: GymLogin | None = None) -> GymLogin:
    if role not in Role.values:
        raise ValidationError(f"{role!r} is not a role here; choose one of {', '.join(Role.values)}.")
    if by is not None and by.role != Role.OWNER and Role.OWNER in (role, login.role):
        raise ValidationError("Only an owner can make someone an owner, or change an owner's role.")
    if role == Role.ATHLETE and login.member_id is None:
        raise ValidationError(f"An athlete is a member: {login.email} is linked to no member of the gym.")
    with transaction.atomic(using=router.db_for_write(GymLogin)):
        locked = GymLogin.objects.select_for_update().get(pk=login.pk)
        _last_owner_guard(locked, new_role=role)
        login.role = role
        login.save(update_fields=["role", "member", "updated_at"])
    return login


def login_remove(login: GymLogin, *, by: GymLogin | None = None) -> None:
    """Remove a login (the member record and its results stay)."""
    if by is not None and by.pk == login.pk:
        raise ValidationError("You cannot remove your own login.")
    if by is not None and by.role != Role.OWNER and login.role == Role.OWNER:
        raise ValidationError("Only an owner can remove an owner.")
    with transaction.atomic(using=router.db_for_write(GymLogin)):
        locked = GymLogin.objects.select_for_update().get(pk=login.pk)
        _last_owner_guard(locked, removing=True)
        locked.delete()


def login_ensure(
    *,
    email: str,
    role: str,
    password: str = "",
    name: str = "",
    is_active: bool = True,
    last_login: datetime.datetime | None = None,
) -> tuple[GymLogin, bool]:
    """The login with this e-mail, made with these values if it does not exist yet; whether it was made.

    An existing login is left as it is (its password may have changed since), so running again changes
    nothing. ``password`` is a hasher's string as stored (a moved login keeps its hash); '' leaves the
    login without a usable password.
    """
    address = email_normalize(email)
    existing = GymLogin.objects.filter(email=address).first()
    if existing is not None:
        return existing, False
    login = GymLogin(email=address, role=role, name=name, is_active=is_active, last_login=last_login)
    if password:
        login.password = password
    else:
        login.set_unusable_password()
    try:
        with transaction.atomic(using=router.db_for_write(GymLogin)):
            login.save()
    except IntegrityError:  # made by another run between the check and the insert
        return GymLogin.objects.get(email=address), False
    return login, True


def owners_without_password() -> list[GymLogin]:
    """The active owners who have never set a password (to be invited)."""
    return [o for o in GymLogin.objects.filter(role=Role.OWNER, is_active=True) if not o.has_usable_password()]
