"""What every gym page's header needs: the visitor's role here and the navigation, current page marked."""

from __future__ import annotations

from functools import lru_cache

from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse

from gym.accounts.access import COACH, MANAGE, role_of
from gym.accounts.models import GymLogin

ATHLETE = GymLogin.Role.ATHLETE

# (label, URL name, the URL names that count as being on that page)
_NAV = (
    ("Dashboard", "dashboard", {"dashboard"}),
    ("Week", "workouts:week", {"workouts:week"}),
    (
        "Workouts",
        "workouts:list",
        {"workouts:list", "workouts:detail", "workouts:edit", "workouts:create", "workouts:sheet"},
    ),
    ("Library", "workouts:library", {"workouts:library"}),
    ("Exercises", "workouts:exercises", {"workouts:exercises", "workouts:exercise_create", "workouts:exercise_edit"}),
    ("Members", "members:list", {"members:list", "members:detail", "members:edit", "members:create", "members:import"}),
    ("Boards", "leaderboards:overall", {"leaderboards:overall", "leaderboards:benchmarks", "leaderboards:all_time"}),
    ("People", "people:list", {"people:list", "people:remove"}),
    (
        "Classes",
        "classes:schedule",
        {
            "classes:schedule",
            "classes:create",
            "classes:edit",
            "classes:holidays",
            "classes:rules",
            "classes:occurrence",
        },
    ),
    ("Whiteboard", "whiteboard:links", {"whiteboard:links"}),
)


def gym_navigation(request: HttpRequest) -> dict[str, object]:
    affiliate = getattr(request, "affiliate", None)
    user = getattr(request, "user", None)
    if affiliate is None or user is None or not user.is_authenticated:
        return {}
    role = role_of(request)
    match = getattr(request, "resolver_match", None)
    here = match.view_name if match else ""
    if role == ATHLETE:
        return {
            "gym_role": role,
            "gym_nav": [
                (label, url, here in current)
                for label, url, current in _athlete_urls(get_urlconf(), get_script_prefix())
            ],
        }
    if role not in COACH:
        return {"gym_role": role, "gym_nav": []}  # a login without a role here sees no gym pages to go to
    return {
        "gym_role": role,
        "gym_nav": [
            (label, url, here in current)
            for label, url, current in _nav_urls(get_urlconf(), get_script_prefix())
            if role in MANAGE or "people:list" not in current
        ],
    }


_ATHLETE_NAV = (
    ("My week", "athletes:home", {"athletes:home", "athletes:workout"}),
    ("My progress", "athletes:progress", {"athletes:progress"}),
    ("Classes", "classes:mine", {"classes:mine"}),
)


@lru_cache(maxsize=16)
def _athlete_urls(urlconf: str | None, prefix: str) -> tuple[tuple[str, str, set[str]], ...]:
    return tuple((label, reverse(name, urlconf=urlconf), current) for label, name, current in _ATHLETE_NAV)


@lru_cache(maxsize=16)
def _nav_urls(urlconf: str | None, prefix: str) -> tuple[tuple[str, str, set[str]], ...]:
    """The navigation's addresses, reversed once per process for each URLconf and script prefix (they
    are the same on every gym's host; only which one is current differs from page to page)."""
    return tuple((label, reverse(name, urlconf=urlconf), current) for label, name, current in _NAV)
