import datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError

from gym.accounts.models import GymLogin
from gym.members.models import Member

# Only django-stubs' ModelForm is generic: Django's takes no type argument at run time.
if TYPE_CHECKING:
    _MemberModelForm = forms.ModelForm[Member]
else:
    _MemberModelForm = forms.ModelForm


class MemberForm(_MemberModelForm):
    class Meta:
        model = Member
        fields = ["first_name", "last_name", "email", "gender", "birth_date", "joined_on", "hide_scores"]
        widgets = {
            "birth_date": forms.DateInput(attrs={"type": "date"}),
            "joined_on": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "joined_on" in self.fields:
            self.fields["joined_on"].required = False

    def clean_birth_date(self) -> datetime.date | None:
        born: datetime.date | None = self.cleaned_data.get("birth_date")
        if born and born > datetime.date.today():
            raise ValidationError("A birth date cannot be in the future.")
        if born and born.year < 1900:
            raise ValidationError("Enter a birth date after 1900.")
        return born

    def clean_joined_on(self) -> datetime.date:
        joined: datetime.date = self.cleaned_data.get("joined_on") or datetime.date.today()
        return joined

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"].strip().lower()
        taken = Member.objects.filter(email=email).exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError("Another member already uses this email address.")
        return email

    def clean_first_name(self) -> str:
        name: str = self.cleaned_data["first_name"].strip()
        if not name:
            raise ValidationError("Enter a first name.")
        return name


class DropInForm(MemberForm):
    """A drop-in athlete added from a results sheet: a new member with just a name and an e-mail."""

    class Meta(MemberForm.Meta):
        fields = ["first_name", "last_name", "email"]


class InviteForm(forms.Form):
    email = forms.EmailField(label="E-mail", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    name = forms.CharField(label="Name", max_length=150, required=False)
    role = forms.ChoiceField(label="Role", choices=GymLogin.Role.choices, initial=GymLogin.Role.ATHLETE)
    member = forms.ModelChoiceField(
        label="Member (athletes)",
        queryset=Member.objects.none(),
        required=False,
        help_text="An athlete's login is one of the gym's members: left empty, the member with this e-mail.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["member"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Member.objects.filter(is_active=True, login__isnull=True)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=GymLogin.Role.choices)
