"""Requests refused before any view sees them."""

from __future__ import annotations

from django.http import HttpResponseBadRequest


class RejectNulInQueryMiddleware:
    """A NUL character in the query string is never meaningful here, and PostgreSQL refuses it in
    text: answer 400 with a plain reason instead of letting a filter or a search reach the database.
    (Form fields refuse NUL themselves, with a message next to the field.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any("\x00" in value for values in request.GET.lists() for value in values[1]) or any(
            "\x00" in key for key in request.GET
        ):
            return HttpResponseBadRequest(
                "The address contains a NUL character (%00). Remove it and try again.", content_type="text/plain"
            )
        return self.get_response(request)
