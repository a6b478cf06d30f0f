"""Authentication of a gym's logins against the current gym's own database.

Only on a gym's host (the request carries its affiliate); the command center's staff log in with
``affiliates.people.backends.CommandCenterBackend`` and never here.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest

from affiliates.routing.context import current_affiliate
from gym.accounts.models import GymLogin


class GymLoginBackend(BaseBackend):
    def authenticate(  # type: ignore[override]  # Django's signature takes credentials as keywords
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> GymLogin | None:
        if request is None or getattr(request, "affiliate", None) is None or not username or password is None:
            return None
        try:
            login = GymLogin.objects.get(email=username.strip().lower())
        except GymLogin.DoesNotExist:
            GymLogin().set_password(password)  # as long as a real check: no telling who has a login by the time
            return None
        if login.check_password(password) and login.is_active:
            return login
        return None

    def get_user(self, user_id: int) -> GymLogin | None:  # type: ignore[override]  # a gym login, not auth.User
        # A gym login exists only in its gym's database: with no gym current (the command center's hosts)
        # there is no such login.
        if current_affiliate() is None:
            return None
        return GymLogin.objects.filter(pk=user_id, is_active=True).first()
