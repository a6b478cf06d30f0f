"""The name a failed login is counted under (django-axes' "username"), and unlocking one.

On the command center it is the staff username. On a gym's host it is the gym and a keyed hash of
the e-mail: the management database, where the attempts are kept, holds no gym login's e-mail,
and a lockout at one gym never locks the same person out of another.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from axes.utils import reset
from django.conf import settings
from django.http import HttpRequest

#: The longest key django-axes can keep (its username columns are 255 characters).
MAX_KEY_LENGTH = 255


def login_key(affiliate_id: int | None, username: str) -> str:
    """The throttling key of ``username`` on a gym (``affiliate_id``) or on the command center (None)."""
    if affiliate_id is None:
        if len(username) <= MAX_KEY_LENGTH:
            return username
        # Longer than django-axes keeps (its columns hold 255): such a name is no staff login; counted
        # under a keyed hash of it, so a long name is throttled like any other and never a 500.
        digest = hmac.new(settings.SECRET_KEY.encode(), username.encode(), hashlib.sha256).hexdigest()
        return f"long:{digest}"
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"{affiliate_id}:{username.strip().lower()}".encode(), hashlib.sha256
    ).hexdigest()
    return f"gym:{affiliate_id}:{digest[:32]}"


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """AXES_USERNAME_CALLABLE: the key of the login being tried on this request's site."""
    username = (credentials or {}).get("username")
    if username is None:
        username = getattr(request, "POST", {}).get("username", "")
    affiliate = getattr(request, "affiliate", None)
    return login_key(affiliate.pk if affiliate is not None else None, str(username or ""))


def login_unlock(affiliate_id: int, email: str) -> int:
    """Forget a gym login's failed attempts (from every address); returns how many were removed."""
    return int(reset(username=login_key(affiliate_id, email)))
