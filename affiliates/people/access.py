"""Who may do what in an affiliate: memberships (management database) give roles."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from affiliates.models import Membership

Role = Membership.Role
#: Who manages everything in a gym (members included).
MANAGE = (Role.OWNER, Role.ADMIN)
#: Who runs classes: workouts, results, leaderboards (not members' records).
COACH = (Role.OWNER, Role.ADMIN, Role.COACH)


def role_in(user, affiliate) -> str | None:
    """The user's role in the affiliate, or None (staff and superusers get none by default)."""
    if not user.is_authenticated or affiliate is None:
        return None
    cache = getattr(user, "_fitbuddy_roles", None)
    if cache is None:
        cache = user._fitbuddy_roles = {}
    if affiliate.pk not in cache:
        cache[affiliate.pk] = (
            Membership.objects.filter(user=user, affiliate=affiliate).values_list("role", flat=True).first()
        )
    return cache[affiliate.pk]


def role_required(*roles: str):
    """A view decorator: log in first; then a membership with one of ``roles`` in the request's affiliate."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            role = role_in(request.user, getattr(request, "affiliate", None))
            if role not in roles:
                raise PermissionDenied("You have no access to this page of this gym.")
            request.affiliate_role = role
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
