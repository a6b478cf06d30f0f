"""The command center's staff log in with Django's users, on the command center's hosts only.

On a gym's host this backend answers nobody: the gym's logins are in its own database
(``gym.accounts.backends.GymLoginBackend``), and a staff account is no gym login.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.http import HttpRequest


class CommandCenterBackend(ModelBackend):
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if request is not None and getattr(request, "affiliate", None) is not None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
