"""URLs of an affiliate's host (e.g. ironworks.localhost): the gym pages. No admin here."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from gym.workouts import views as workout_views

urlpatterns = [
    path("", workout_views.dashboard, name="dashboard"),
    path("login/", auth_views.LoginView.as_view(template_name="gym/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("members/", include("gym.members.urls")),
    path("", include("gym.workouts.urls")),
    path("", include("gym.leaderboards.urls")),
]

handler403 = "fitbuddy.views.forbidden"
