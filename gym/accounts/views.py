"""Logging in and setting a password on a gym's host, against the gym's own logins."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.base_user import AbstractBaseUser
from django.utils.http import urlsafe_base64_decode

from affiliates.routing.addresses import gym_base_url
from gym.accounts.forms import GymLoginForm, GymPasswordResetForm
from gym.accounts.models import GymLogin


class GymLoginView(auth_views.LoginView):
    template_name = "gym/login.html"
    form_class = GymLoginForm
    redirect_authenticated_user = False


class GymPasswordResetView(auth_views.PasswordResetView):
    """Forgot a password: a link for this gym's login with that e-mail, if there is one (the page
    says the same either way, so it tells nobody who has a login)."""

    template_name = "gym/password_reset_form.html"
    email_template_name = "gym/password_reset_email.txt"
    subject_template_name = "gym/password_reset_subject.txt"
    form_class = GymPasswordResetForm

    def form_valid(self, form: Any) -> Any:
        # The link is built on the gym's configured address (GYM_BASE_URL and its primary domain), never
        # on the Host header the visitor sent.
        affiliate = getattr(self.request, "affiliate")  # noqa: B009  # set by the routing middleware
        base_url = gym_base_url(affiliate)
        self.extra_email_context = {"request": self.request, "base_url": base_url}
        self.domain_override = base_url.split("://", 1)[-1]
        return super().form_valid(form)


class GymPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Set a password from a link: the login is this gym's (Django's view reads ``auth.User``)."""

    template_name = "gym/password_reset_confirm.html"

    def get_user(self, uidb64: str) -> AbstractBaseUser | None:  # type: ignore[override]  # a gym login, not auth.User
        try:
            pk = int(urlsafe_base64_decode(uidb64).decode())
        except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
            return None
        if not -(2**63) <= pk < 2**63:
            return None
        return GymLogin.objects.filter(pk=pk, is_active=True).first()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["login"] = self.user if getattr(self, "user", None) is not None else None
        return context
