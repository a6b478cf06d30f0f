import datetime

from django import forms
from django.core.exceptions import ValidationError

from gym.members.models import Member


class MemberForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = ["first_name", "last_name", "email", "gender", "birth_date", "joined_on", "hide_scores"]
        widgets = {
            "birth_date": forms.DateInput(attrs={"type": "date"}),
            "joined_on": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "joined_on" in self.fields:
            self.fields["joined_on"].required = False

    def clean_birth_date(self):
        born = self.cleaned_data.get("birth_date")
        if born and born > datetime.date.today():
            raise ValidationError("A birth date cannot be in the future.")
        if born and born.year < 1900:
            raise ValidationError("Enter a birth date after 1900.")
        return born

    def clean_joined_on(self):
        return self.cleaned_data.get("joined_on") or datetime.date.today()

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        taken = Member.objects.filter(email=email).exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError("Another member already uses this email address.")
        return email

    def clean_first_name(self):
        name = self.cleaned_data["first_name"].strip()
        if not name:
            raise ValidationError("Enter a first name.")
        return name


class DropInForm(MemberForm):
    """A drop-in athlete added from a results sheet: a new member with just a name and an e-mail."""

    class Meta(MemberForm.Meta):
        fields = ["first_name", "last_name", "email"]
