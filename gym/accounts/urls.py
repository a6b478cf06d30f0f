"""Log in, log out, forgot and set a password: Django's views on the gym's own host, for its logins."""

from django.contrib.auth import views as auth_views
from django.urls import path

from gym.accounts import views

urlpatterns = [
    path("login/", views.GymLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.GymPasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="gym/password_reset_done.html"),
        name="password_reset_done",
    ),
    path("reset/<uidb64>/<token>/", views.GymPasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="gym/password_reset_complete.html"),
        name="password_reset_complete",
    ),
]
