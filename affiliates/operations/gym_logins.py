"""What staff and workers do to a gym's logins, which live in the gym's own database.

- provisioning makes the first owner's login from the affiliate's contact address, and invites it;
- staff help a login from the command center (send a link, unlock it after too many failed tries),
  each act audited by the login's number and role, never its e-mail;
- ``memberships_move`` is the upgrade: today's memberships (Django users in the management database)
  become logins in their gyms' databases, with their password hashes, and leave the management database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from affiliates.audit import audited
from affiliates.models import Affiliate, Membership, StaffAudit
from affiliates.people.throttle import login_unlock
from affiliates.routing.addresses import gym_base_url
from affiliates.routing.context import affiliate_context
from gym.accounts.invitations import password_link_send
from gym.accounts.models import GymLogin
from gym.accounts.services import Gym, email_normalize, login_ensure, owners_without_password

#: Affiliates whose database holds their logins (the others have none to reach: requested, archived, …).
REACHABLE = (Affiliate.Status.ACTIVE, Affiliate.Status.SUSPENDED)


def _gym(affiliate: Affiliate) -> Gym:
    return Gym(name=affiliate.name, base_url=gym_base_url(affiliate))


def owner_login_ensure(affiliate: Affiliate) -> bool:
    """Provisioning's step: the owner's login from the contact address (none without one); whether it was made."""
    if not affiliate.contact_email:
        return False
    with affiliate_context(affiliate):
        _login, made = login_ensure(email=affiliate.contact_email, role=GymLogin.Role.OWNER)
    return made


def owners_invite(affiliate: Affiliate) -> list[str]:
    """Mail every active owner who never set a password a link to set one; the addresses it went to."""
    with affiliate_context(affiliate):
        return [
            password_link_send(owner, base_url=_gym(affiliate).base_url, gym_name=affiliate.name, invitation=True)
            for owner in owners_without_password()
        ]


class LoginHelp:
    LINK = "link"
    UNLOCK = "unlock"
    CHOICES = ((LINK, "Send a link to set the password"), (UNLOCK, "Unlock after too many failed logins"))


def login_help(affiliate: Affiliate, *, email: str, action: str, actor: str, channel: str = "admin") -> str:
    """Staff's help for one login of the gym: a link, or an unlock. Audited; returns what was done."""
    if affiliate.status not in REACHABLE:
        raise ValidationError(f"{affiliate.slug} is {affiliate.status}: its logins cannot be reached.")
    address = email_normalize(email)
    name = {LoginHelp.LINK: "login_link", LoginHelp.UNLOCK: "login_unlock"}.get(action)
    if name is None:
        raise ValidationError(f"{action!r} is not something staff can do for a login.")
    with affiliate_context(affiliate):
        login = GymLogin.objects.filter(email=address).first()
        if login is None:
            raise ValidationError(f"{affiliate.slug} has no login with that e-mail.")
        with audited(name, actor=actor, channel=channel, target=affiliate.slug, detail=f"login #{login.pk}"):
            if action == LoginHelp.LINK:
                password_link_send(login, base_url=_gym(affiliate).base_url, gym_name=affiliate.name)
                done = "a link to set the password was sent"
            else:
                done = f"unlocked ({login_unlock(affiliate.pk, address)} failed attempt record(s) cleared)"
    return f"{affiliate.slug}, login #{login.pk} ({login.get_role_display().lower()}): {done}"


def owner_links_send(affiliate: Affiliate, *, actor: str) -> list[str]:
    """A link to every active owner of the gym (the command center's bulk action); audited per login."""
    if affiliate.status not in REACHABLE:
        raise ValidationError(f"{affiliate.slug} is {affiliate.status}: its logins cannot be reached.")
    sent: list[str] = []
    with affiliate_context(affiliate):
        for owner in GymLogin.objects.filter(role=GymLogin.Role.OWNER, is_active=True):
            with audited(
                "password_link",
                actor=actor,
                channel=StaffAudit.Channel.ADMIN,
                target=affiliate.slug,
                detail=f"login #{owner.pk}",
            ):
                sent.append(password_link_send(owner, base_url=_gym(affiliate).base_url, gym_name=affiliate.name))
    return sent


# --- the upgrade: memberships (management database) → logins in each gym's database ---


@dataclass
class MoveReport:
    moved: int = 0
    already_there: int = 0
    users_deleted: int = 0
    kept: list[str] = field(default_factory=list)  # left in the management database, and why

    @property
    def complete(self) -> bool:
        return not self.kept


def memberships_move(*, progress: Callable[[str], None] | None = None) -> MoveReport:
    """Move every membership into its gym's database, then delete it (and a user left with none).

    Safe to run again at any point: a login already in the gym is kept as it is (its password may have
    changed since); a membership is deleted only once its login is in the gym; a user only once none is left.
    A membership of a gym whose database cannot be reached (not provisioned, archived) stays, reported.
    """
    say = progress or (lambda _line: None)
    report = MoveReport()
    affiliates = Affiliate.objects.filter(memberships__isnull=False).distinct().select_related("database_server")
    for affiliate in affiliates:
        memberships = list(Membership.objects.filter(affiliate=affiliate).select_related("user").order_by("pk"))
        if affiliate.status not in REACHABLE:
            report.kept.extend(
                f"{affiliate.slug}: {m.user.get_username()} ({affiliate.status}: run again once it is restored)"
                for m in memberships
            )
            continue
        with affiliate_context(affiliate):
            for membership in memberships:
                _membership_move(affiliate, membership, report)
        say(f"{affiliate.slug}: {len(memberships)} membership(s) handled")
    return report


def _membership_move(affiliate: Affiliate, membership: Membership, report: MoveReport) -> None:
    user = membership.user
    address = user.email or (user.get_username() if "@" in user.get_username() else "")
    try:
        email_normalize(address)
    except ValidationError:
        report.kept.append(f"{affiliate.slug}: {user.get_username()} has no e-mail address to log in with")
        return
    _login, made = login_ensure(
        email=address,
        role=membership.role,
        password=user.password,
        name=user.get_full_name(),
        is_active=user.is_active,
        last_login=user.last_login,
    )
    if made:
        report.moved += 1
    else:
        report.already_there += 1
    if not affiliate.contact_email and membership.role == Membership.Role.OWNER:
        Affiliate.objects.filter(pk=affiliate.pk, contact_email="").update(contact_email=address.strip().lower())
    with transaction.atomic():
        membership.delete()
        remaining = Membership.objects.filter(user_id=user.pk).exists()
        if not remaining and not user.is_staff and not user.is_superuser:
            get_user_model().objects.filter(pk=user.pk).delete()
            report.users_deleted += 1
