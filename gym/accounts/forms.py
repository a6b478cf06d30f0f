"""The gym's login forms: log in by e-mail, forgot password, invite a login, change a role."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm

from gym.accounts.models import GymLogin


class GymLoginForm(AuthenticationForm):
    """Django's login form, its login name being the e-mail."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"] = forms.CharField(
            label="E-mail",
            max_length=254,
            widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True, "autocapitalize": "none"}),
        )
        self.error_messages["invalid_login"] = (
            "That e-mail and password do not match a login of this gym. Both are checked as typed; "
            "the e-mail's capitals do not matter."
        )


class GymPasswordResetForm(PasswordResetForm):
    """Django's reset form, for this gym's logins, including those that never had a password."""

    def get_users(self, email: str) -> Iterable[GymLogin]:  # type: ignore[override]  # a gym login, not auth.User
        return GymLogin.objects.filter(email=email.strip().lower(), is_active=True)
