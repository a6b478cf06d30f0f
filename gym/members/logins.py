"""A gym's people and their logins: inviting one (an athlete's login is one of the members)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, router, transaction
from django.utils import timezone

from gym.accounts.invitations import password_link_send
from gym.accounts.models import GymLogin
from gym.accounts.services import Gym, email_normalize, login_role_change
from gym.members.models import Member

Role = GymLogin.Role


def login_invite(
    *, email: str, role: str, gym: Gym, name: str = "", member: Member | None = None, by: GymLogin | None = None
) -> GymLogin:
    """Create a login without a password and mail it a link to set one.

    An athlete's login is a member of the gym: the one given, else the member with that e-mail.
    """
    address = email_normalize(email)
    if role not in Role.values:
        raise ValidationError(f"{role!r} is not a role here; choose one of {', '.join(Role.values)}.")
    if by is not None and role == Role.OWNER and by.role != Role.OWNER:
        raise ValidationError("Only an owner can make someone an owner.")
    if role == Role.ATHLETE and member is None:
        member = Member.objects.filter(email=address).first()
        if member is None:
            raise ValidationError(f"No member has the e-mail {address}: add the member first, or choose one.")
    if GymLogin.objects.filter(email=address).exists():
        raise ValidationError(f"{address} already has a login here; send it a new link instead.")
    if member is not None and GymLogin.objects.filter(member=member).exists():
        raise ValidationError(f"{member} already has a login here.")
    try:
        with transaction.atomic(using=router.db_for_write(GymLogin)):
            login = GymLogin(email=address, role=role, name=name.strip() or (str(member) if member else ""))
            login.member = member
            login.set_unusable_password()
            login.invited_at = timezone.now()
            login.save()
    except IntegrityError as exc:  # someone invited the same address or member at the same moment
        raise ValidationError(f"{address} already has a login here; send it a new link instead.") from exc
    password_link_send(login, base_url=gym.base_url, gym_name=gym.name, invitation=True)
    return login


def login_role_set(login: GymLogin, role: str, *, by: GymLogin | None = None) -> GymLogin:
    """Change a login's role; made an athlete, it is linked to the member with its e-mail."""
    if role == Role.ATHLETE and login.member_id is None:
        member = Member.objects.filter(email=login.email).exclude(login__isnull=False).first()
        if member is None:
            raise ValidationError(f"An athlete is a member: no member without a login has the e-mail {login.email}.")
        login.member = member
    return login_role_change(login, role, by=by)
