"""A gym whose database role refused its password gets a 503 while the worker repairs it, not a 500.

The refusal can surface anywhere a request first touches the gym's database (a middleware loading the
login, a view), and Django turns it into a response where it is raised; its 500 handler is the one
place every such error reaches, so the gym site's ``handler500`` is :func:`server_error`.
"""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.views import defaults

from affiliates.routing.backend.base import RoleRefused

#: Seconds a browser is told to wait: the worker sets the role's password back within a few.
RETRY_AFTER_SECONDS = 10


def _refused(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, RoleRefused):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def server_error(request: HttpRequest) -> HttpResponse:
    """The gym site's 500 handler: a 503 with Retry-After when the gym's role refused FitBuddy's login."""
    if not _refused(sys.exc_info()[1]):
        return _server_error_page(request)
    # Rendered without the request: its context processors would read the login from the gym's
    # database, which is what just refused.
    page = loader.render_to_string("affiliates/repairing.html", {"affiliate": getattr(request, "affiliate", None)})
    response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _server_error_page(request: HttpRequest) -> HttpResponse:
    """templates/500.html with the gym's name (read from the request, no query); Django's own page when
    even that fails."""
    try:
        page = loader.render_to_string("500.html", {"affiliate": getattr(request, "affiliate", None)})
    except Exception:  # a broken template must not hide the error being answered
        return defaults.server_error(request)
    return HttpResponse(page, status=500)
