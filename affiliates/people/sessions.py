"""Gym sessions and command-center sessions are separate.

A login records where it happened in its session: the command center, or one gym. A session
presented on any other site is ended there (the visitor is anonymous and logs in again), so a
session taken from a gym's login page never opens the command center, nor another gym.
"""

from __future__ import annotations

from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

SITE_KEY = "fitbuddy_site"
COMMAND_CENTER = "command-center"


def site_of(request) -> str:
    """The site a request is on: ``command-center`` or ``gym:<affiliate id>``."""
    affiliate = getattr(request, "affiliate", None)
    return f"gym:{affiliate.pk}" if affiliate is not None else COMMAND_CENTER


@receiver(user_logged_in)
def _remember_site(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SITE_KEY] = site_of(request)


class SiteSessionMiddleware:
    """After authentication: a session from another site is ended here."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and request.session.get(SITE_KEY) != site_of(request):
            logout(request)  # flushes the session and makes the user anonymous
        return self.get_response(request)
