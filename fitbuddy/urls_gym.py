"""URLs of an affiliate's host (e.g. ironworks.localhost): the gym pages. No admin here."""

from django.urls import include, path

from gym.leaderboards import views as leaderboard_views
from gym.members import urls as members_urls
from gym.workouts import views as workout_views

urlpatterns = [
    path("", workout_views.dashboard, name="dashboard"),
    # Log in by e-mail, log out, forgot and set a password: against this gym's own logins.
    path("", include("gym.accounts.urls")),
    # The gym's logins, managed by its owners and admins.
    path("people/", include("gym.members.login_urls")),
    # An athlete's own pages (their phone): the week, their scores, the boards, their progress.
    path("me/", include("gym.athletes.urls")),
    # A member's own page reads their results, so its view lives above both apps (gym/leaderboards);
    # it keeps its place among the member pages, and its name, members:detail.
    path(
        "members/",
        include(
            (
                [path("<int:member_id>/", leaderboard_views.member_detail, name="detail"), *members_urls.urlpatterns],
                members_urls.app_name,
            )
        ),
    ),
    path("", include("gym.workouts.urls")),
    path("", include("gym.leaderboards.urls")),
    # Classes: the schedule, a class's roster and check-in (/classes/), an athlete's bookings (/me/classes/).
    path("", include("gym.classes.urls")),
    # The whiteboard on the box's TV (a link's token, no login) and the coaches' page of links.
    path("", include("gym.leaderboards.whiteboard_urls")),
]

handler403 = "fitbuddy.views.forbidden"
# A gym role that refused its password: 503 while the worker repairs it (any other error: Django's 500).
handler500 = "affiliates.routing.repair.server_error"
