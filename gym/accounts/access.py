"""Who may do what in a gym: the role on the visitor's own login in the gym's database."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, ParamSpec, Protocol, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase

from affiliates.routing.connections import alias_name
from gym.accounts.models import GymLogin

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

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


Role = GymLogin.Role
#: Who manages everything in a gym (members and logins included).
MANAGE = (Role.OWNER, Role.ADMIN)
#: Who runs classes: workouts, results, leaderboards (not members' records).
COACH = (Role.OWNER, Role.ADMIN, Role.COACH)
#: Everyone with a login here, athletes included.
EVERYONE = (Role.OWNER, Role.ADMIN, Role.COACH, Role.ATHLETE)


def gym_login_of(request: HttpRequest) -> GymLogin | None:
    """The request's login when it is an active login of the request's own gym, else None.

    Staff (Django users of the management database) have no role in a gym; a login object read from
    another gym's database (the session's site check already ends such sessions) has none here either.
    """
    user: AbstractBaseUser | AnonymousUser | None = getattr(request, "user", None)
    affiliate = getattr(request, "affiliate", None)
    if affiliate is None or not isinstance(user, GymLogin) or not user.is_active:
        return None
    return user if user._state.db == alias_name(affiliate) else None


def role_of(request: HttpRequest) -> str | None:
    """The visitor's role in the request's gym, or None."""
    login = gym_login_of(request)
    return login.role if login is not None else None


def role_required(
    *roles: str,
) -> Callable[[_View[_Request, _P, _Response]], _View[_Request, _P, _Response | HttpResponseRedirect]]:
    """A view decorator: log in first; then a login of this gym with one of ``roles``."""

    def decorator(view: _View[_Request, _P, _Response]) -> _View[_Request, _P, _Response | HttpResponseRedirect]:
        @wraps(view)
        def wrapper(request: _Request, *args: _P.args, **kwargs: _P.kwargs) -> _Response | HttpResponseRedirect:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            role = role_of(request)
            if role not in roles:
                raise PermissionDenied("You have no access to this page of this gym.")
            request.affiliate_role = role  # type: ignore[attr-defined]  # for the view, on Django's request
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
