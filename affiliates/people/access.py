"""Who may do what in an affiliate: memberships (management database) give roles."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, ParamSpec, Protocol, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase

from affiliates.models import Affiliate, Membership

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

_P = ParamSpec("_P")
_Request = TypeVar("_Request", bound=HttpRequest)
_Response = TypeVar("_Response", bound=HttpResponseBase)
_RequestIn = TypeVar("_RequestIn", bound=HttpRequest, contravariant=True)
_ResponseOut = TypeVar("_ResponseOut", bound=HttpResponseBase, covariant=True)


class _View(Protocol[_RequestIn, _P, _ResponseOut]):
    """A view: the request, then the URL's arguments.

    A protocol rather than ``Concatenate``, which would make ``request`` positional-only.
    """

    def __call__(self, request: _RequestIn, *args: _P.args, **kwargs: _P.kwargs) -> _ResponseOut: ...


Role = Membership.Role
#: Who manages everything in a gym (members included).
MANAGE = (Role.OWNER, Role.ADMIN)
#: Who runs classes: workouts, results, leaderboards (not members' records).
COACH = (Role.OWNER, Role.ADMIN, Role.COACH)


def role_in(user: User | AnonymousUser, affiliate: Affiliate | None) -> str | None:
    """The user's role in the affiliate, or None (staff and superusers get none by default)."""
    if not user.is_authenticated or affiliate is None:
        return None
    cache: dict[int, str | None] | None = getattr(user, "_fitbuddy_roles", None)
    if cache is None:
        cache = user._fitbuddy_roles = {}  # type: ignore[attr-defined]  # a cache of our own on Django's user
    if affiliate.pk not in cache:
        cache[affiliate.pk] = (
            Membership.objects.filter(user=user, affiliate=affiliate).values_list("role", flat=True).first()
        )
    return cache[affiliate.pk]


def role_required(
    *roles: str,
) -> Callable[[_View[_Request, _P, _Response]], _View[_Request, _P, _Response | HttpResponseRedirect]]:
    """A view decorator: log in first; then a membership with one of ``roles`` in the request's affiliate."""

    def decorator(view: _View[_Request, _P, _Response]) -> _View[_Request, _P, _Response | HttpResponseRedirect]:
        @wraps(view)
        def wrapper(request: _Request, *args: _P.args, **kwargs: _P.kwargs) -> _Response | HttpResponseRedirect:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            role = role_in(request.user, getattr(request, "affiliate", None))
            if role not in roles:
                raise PermissionDenied("You have no access to this page of this gym.")
            request.affiliate_role = role  # type: ignore[attr-defined]  # for the view, on Django's request
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
