"""URLs of an affiliate's host (e.g. ironworks.localhost): the gym pages. No admin here."""

from typing import cast

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from affiliates.models import Affiliate
from affiliates.people.passwords import GymPasswordResetForm
from gym.leaderboards import views as leaderboard_views
from gym.members import urls as members_urls
from gym.workouts import views as workout_views


def _request_affiliate(request: HttpRequest) -> Affiliate | None:
    """The gym AffiliateMiddleware put on the request (None on the command center's hosts)."""
    # HttpRequest does not declare the attribute the middleware sets.
    affiliate: Affiliate | None = getattr(request, "affiliate")  # noqa: B009
    return affiliate


class GymPasswordResetView(auth_views.PasswordResetView):
    template_name = "gym/password_reset_form.html"
    email_template_name = "gym/password_reset_email.txt"
    subject_template_name = "gym/password_reset_subject.txt"
    form_class = GymPasswordResetForm

    def get_form(self, form_class: type[PasswordResetForm] | None = None) -> PasswordResetForm:
        # The stubs type the form as PasswordResetView's; form_class makes it a GymPasswordResetForm.
        form = cast(GymPasswordResetForm, super().get_form(form_class))
        form.affiliate = _request_affiliate(self.request)  # only this gym's logins get a link
        return form

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        self.extra_email_context = {"request": self.request}
        return super().form_valid(form)


urlpatterns = [
    path("", workout_views.dashboard, name="dashboard"),
    path("login/", auth_views.LoginView.as_view(template_name="gym/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Forgot / set a password: Django's reset views on the gym's own host, for this gym's logins.
    path("password-reset/", GymPasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="gym/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(template_name="gym/password_reset_confirm.html"),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="gym/password_reset_complete.html"),
        name="password_reset_complete",
    ),
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
]

handler403 = "fitbuddy.views.forbidden"
