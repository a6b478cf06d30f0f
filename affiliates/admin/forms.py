from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.exceptions import ValidationError

from affiliates import validation
from affiliates.models import Affiliate, DatabaseServer, Domain
from affiliates.operations import gym_logins, provisioning

if TYPE_CHECKING:
    # The stubs' ModelForm takes its model; Django's cannot be subscripted at run time.
    _AffiliateForm = forms.ModelForm[Affiliate]
    _DomainForm = forms.ModelForm[Domain]
else:
    _AffiliateForm = _DomainForm = forms.ModelForm

FIELD_FOR = {
    "slug": "schema_name",
    "name": "name",
    "domain": "domain",
    "owner_email": "owner_email",
    "seed": "seed",
    "server": "server",
}


class AffiliateRequestForm(_AffiliateForm):
    """Staff's onboarding form: the same checks as provision_affiliate, before anything is created."""

    schema_name = forms.CharField(
        label="Slug",
        max_length=200,
        help_text=f"Lower-case letters, digits and underscores, at most {validation.MAX_SLUG_LENGTH} characters; "
        "names the database and role (fitbuddy_<slug>).",
    )
    domain = forms.CharField(max_length=253, help_text="The host the gym is reached on, e.g. ironworks.localhost")
    owner_email = forms.EmailField(required=False, help_text="The gym owner's login (created if missing).")
    seed = forms.BooleanField(required=False, help_text="Apply the local data seed (local and test only).")
    server = forms.ModelChoiceField(
        queryset=DatabaseServer.objects.filter(is_accepting=True),
        required=False,
        label="Database server",
        help_text="Empty: the accepting server with room and the fewest affiliates.",
    )

    class Meta:
        model = Affiliate
        fields = ["schema_name", "name"]

    def clean(self) -> dict[str, Any]:
        # ModelForm's clean returns cleaned_data; the stubs allow None, for overrides that return nothing.
        data = cast(dict[str, Any], super().clean())
        if self.errors:
            return data
        try:
            provisioning.affiliate_request_check(
                slug=data["schema_name"],
                name=data["name"],
                domain=data["domain"],
                owner_email=data.get("owner_email") or None,
                seed=data.get("seed", False),
                server_name=data["server"].name if data.get("server") else None,
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(FIELD_FOR.get(field), messages)
        return data

    def validate_unique(self) -> None:
        """Uniqueness is part of affiliate_request_check (case-insensitive, with a clear message)."""


class DomainForm(_DomainForm):
    """A host name for an affiliate, checked and lower-cased as a new affiliate's is (the registry
    keeps domains lower-case: a CHECK constraint refuses anything else)."""

    class Meta:
        model = Domain
        fields = ["domain", "tenant", "is_primary"]

    def clean_domain(self) -> str:
        domain = validation.validate_domain(self.cleaned_data["domain"])
        taken = Domain.objects.filter(domain=domain).exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(f"{domain} already routes to {taken.first().tenant}.")
        return domain


class LoginHelpForm(forms.Form):
    """Staff helping one of a gym's logins (the gym's database is asked; nothing is kept here)."""

    email = forms.EmailField(label="The login's e-mail", max_length=254)
    action = forms.ChoiceField(label="Help", choices=gym_logins.LoginHelp.CHOICES, widget=forms.RadioSelect)


class RestoreServerForm(forms.Form):
    """The restore confirmation's choice of server: a name as the registry holds them (a NUL or an
    over-long value is refused with a message, never sent to PostgreSQL)."""

    server = forms.CharField(required=False, max_length=100, strip=True)

    def problem(self) -> str:
        """What is wrong with the choice, for the page ("" when nothing is)."""
        return " ".join(f"Database server: {message}" for message in self.errors.get("server", []))
