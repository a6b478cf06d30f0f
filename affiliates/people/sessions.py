"""Gym sessions and command-center sessions are separate.

A login records where it happened in its session: the command center, or one gym. A session
presented on any other site is ended there (the visitor is anonymous and logs in again), so a
session taken from a gym's login page never opens the command center, nor another gym.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import logout
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest
from django.http.response import HttpResponseBase

SITE_KEY = "fitbuddy_site"
COMMAND_CENTER = "command-center"


def site_of(request: HttpRequest) -> str:
    """The site a request is on: ``command-center`` or ``gym:<affiliate id>``."""
    affiliate = getattr(request, "affiliate", None)
    return f"gym:{affiliate.pk}" if affiliate is not None else COMMAND_CENTER


@receiver(user_logged_in)
def _remember_site(
    sender: type[AbstractBaseUser], request: HttpRequest | None, user: AbstractBaseUser, **kwargs: Any
) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SITE_KEY] = site_of(request)


class SiteSessionMiddleware:
    """After authentication: a session from another site is ended here."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and request.session.get(SITE_KEY) != site_of(request):
            logout(request)  # flushes the session and makes the user anonymous
        return self.get_response(request)
