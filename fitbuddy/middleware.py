"""Requests refused before any view sees them, and where a request comes from."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBadRequest
from django.http.response import HttpResponseBase


def client_ip(request: HttpRequest) -> str | None:
    """The visitor's address: behind the production load balancer, the one it appended last to
    X-Forwarded-For (anything before it came from the client and proves nothing); else the peer."""
    if settings.IS_PRODUCTION:
        forwarded: list[str] = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if forwarded and forwarded[-1]:
            return forwarded[-1]
    peer: str | None = request.META.get("REMOTE_ADDR")
    return peer


class RejectNulInQueryMiddleware:
    """A NUL character in the query string is never meaningful here, and PostgreSQL refuses it in
    text: answer 400 with a plain reason instead of letting a filter or a search reach the database.
    (Form fields refuse NUL themselves, with a message next to the field.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if any("\x00" in value for values in request.GET.lists() for value in values[1]) or any(
            "\x00" in key for key in request.GET
        ):
            return HttpResponseBadRequest(
                "The address contains a NUL character (%00). Remove it and try again.", content_type="text/plain"
            )
        return self.get_response(request)
