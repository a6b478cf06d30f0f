"""Owners and coaches set their own passwords: a link from the gym's "forgot password" page, an
invitation when a new gym's owner is created, and a link staff can send again.

Links are Django's password-reset links (a token that dies when the password changes or after
PASSWORD_RESET_TIMEOUT), on the gym's own host. A login created without a password (a new gym's
owner) can use one too: that is how it gets its first password. Mail goes through Django's
e-mail backend (EMAIL_BACKEND: the console locally, SMTP in production; Amazon SES through its
SMTP interface).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from affiliates.models import Affiliate, Membership

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def gym_base_url(affiliate: Affiliate) -> str:
    """Where the gym is reached (GYM_BASE_URL, e.g. https://{domain}), for links in mail sent outside a request."""
    domain = affiliate.domains.order_by("-is_primary", "domain").values_list("domain", flat=True).first()
    template: str = settings.GYM_BASE_URL
    return template.format(domain=domain)


def password_link(user: User, base_url: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"{base_url}/reset/{uid}/{default_token_generator.make_token(user)}/"


def password_link_send(affiliate: Affiliate, user: User, *, invitation: bool = False) -> str:
    """Mail ``user`` a link to set a password on ``affiliate``'s site; returns the address it went to."""
    context = {
        "affiliate": affiliate,
        "user": user,
        "link": password_link(user, gym_base_url(affiliate)),
        "invitation": invitation,
    }
    subject = render_to_string("gym/password_link_subject.txt", context).strip()
    body = render_to_string("gym/password_link_email.txt", context)
    send_mail(subject, body, None, [user.email])
    return user.email


def owners(affiliate: Affiliate) -> QuerySet[User]:
    """The gym's owners who can receive a link (active, with an address)."""
    return (
        get_user_model()
        .objects.filter(
            affiliate_memberships__affiliate=affiliate,
            affiliate_memberships__role=Membership.Role.OWNER,
            is_active=True,
        )
        .exclude(email="")
    )


class GymPasswordResetForm(PasswordResetForm):
    """Django's reset form, for the logins of this gym only, including those with no password yet."""

    affiliate: Affiliate | None = None

    def get_users(self, email: str) -> Iterable[User]:
        if self.affiliate is None:
            return []
        return (
            get_user_model()
            .objects.filter(email__iexact=email, is_active=True, affiliate_memberships__affiliate=self.affiliate)
            .distinct()
        )
