"""Links that set a gym login's password: invitations, "forgot password", and links staff send again.

A link is Django's password-reset link (a token that dies once the password is set, or after
PASSWORD_RESET_TIMEOUT) on the gym's own host. Mail goes through Django's e-mail backend.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from gym.accounts.models import GymLogin


def password_link(login: GymLogin, base_url: str) -> str:
    """The one-time link that sets ``login``'s password on the gym reached at ``base_url``."""
    uid = urlsafe_base64_encode(force_bytes(login.pk))
    # The generator reads pk, password, last_login and the e-mail field: a GymLogin has them all.
    token = default_token_generator.make_token(login)  # type: ignore[arg-type]
    return f"{base_url.rstrip('/')}/reset/{uid}/{token}/"


def password_link_send(login: GymLogin, *, base_url: str, gym_name: str, invitation: bool = False) -> str:
    """Mail ``login`` a link to set a password; returns the address it went to."""
    context = {
        "gym_name": gym_name,
        "login": login,
        "link": password_link(login, base_url),
        "invitation": invitation,
        "timeout_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    subject = render_to_string("gym/password_link_subject.txt", context).strip()
    body = render_to_string("gym/password_link_email.txt", context)
    send_mail(subject, body, None, [login.email])
    return login.email
