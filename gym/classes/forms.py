from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError

from gym.accounts.models import GymLogin
from gym.classes.models import ClassHoliday, ClassSchedule, ClassSettings
from gym.members.models import Member

# Only django-stubs' ModelForm is generic: Django's takes no type argument at run time.
if TYPE_CHECKING:
    _ScheduleModelForm = forms.ModelForm[ClassSchedule]
    _HolidayModelForm = forms.ModelForm[ClassHoliday]
    _SettingsModelForm = forms.ModelForm[ClassSettings]
else:
    _ScheduleModelForm = _HolidayModelForm = _SettingsModelForm = forms.ModelForm


class ScheduleForm(_ScheduleModelForm):
    class Meta:
        model = ClassSchedule
        fields = ["name", "weekday", "starts_at", "length_minutes", "coach", "capacity", "track"]
        fields += ["active_from", "active_until"]
        widgets = {
            "starts_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "active_from": forms.DateInput(attrs={"type": "date"}),
            "active_until": forms.DateInput(attrs={"type": "date"}),
        }
        labels = {"length_minutes": "Length (minutes)", "active_until": "Active until (empty: no end)"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        coach = self.fields["coach"]
        assert isinstance(coach, forms.ModelChoiceField)
        coach.queryset = GymLogin.objects.filter(is_active=True).exclude(role=GymLogin.Role.ATHLETE)
        self.fields["active_from"].required = False
        for name, low, high in (("length_minutes", 5, 600), ("capacity", 1, 500)):
            self.fields[name].widget.attrs.update(min=low, max=high)

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("Enter the class's name.")
        return name

    def clean_track(self) -> str:
        track: str = self.cleaned_data["track"].strip()
        return track or "main"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("active_from"):
            data["active_from"] = self.instance.active_from if self.instance.pk else None
        for name, low, high in (("length_minutes", 5, 600), ("capacity", 1, 500)):
            value = data.get(name)
            if value is not None and not (low <= value <= high):
                self.add_error(name, f"Enter a number from {low} to {high}.")
        start, until = data.get("active_from"), data.get("active_until")
        if start and until and until < start:
            self.add_error("active_until", "The class cannot end before it starts.")
        return data


class HolidayForm(_HolidayModelForm):
    class Meta:
        model = ClassHoliday
        fields = ["on_date", "reason"]
        widgets = {"on_date": forms.DateInput(attrs={"type": "date"})}
        labels = {"on_date": "Date", "reason": "Reason (athletes read it)"}

    def clean_reason(self) -> str:
        reason: str = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("Say why: athletes read it.")
        return reason


class SettingsForm(_SettingsModelForm):
    class Meta:
        model = ClassSettings
        fields = ["booking_cutoff_minutes", "cancel_cutoff_minutes", "checkin_opens_minutes"]
        labels = {
            "booking_cutoff_minutes": "Booking closes (minutes before the class)",
            "cancel_cutoff_minutes": "Cancelling closes (minutes before the class)",
            "checkin_opens_minutes": "Athletes check in from (minutes before the class)",
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name, high in (("booking_cutoff_minutes", 10080), ("cancel_cutoff_minutes", 10080)):
            value = data.get(name)
            if value is not None and not (0 <= value <= high):
                self.add_error(name, f"Enter minutes from 0 to {high} (a week).")
        opens = data.get("checkin_opens_minutes")
        if opens is not None and not (0 <= opens <= 1440):
            self.add_error("checkin_opens_minutes", "Enter minutes from 0 to 1440 (a day).")
        return data


class CancelClassForm(forms.Form):
    reason = forms.CharField(label="Reason (athletes read it)", max_length=200)

    def clean_reason(self) -> str:
        reason: str = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("Say why: athletes read it.")
        return reason


class WalkInForm(forms.Form):
    """A member who came without booking."""

    member = forms.ModelChoiceField(label="Member", queryset=Member.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["member"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Member.objects.filter(is_active=True, kind=Member.Kind.MEMBER)


class DropInVisitForm(forms.Form):
    """A visitor: a name and an e-mail. Someone already known by that e-mail is found again, not duplicated."""

    first_name = forms.CharField(label="First name", max_length=100)
    last_name = forms.CharField(label="Last name", max_length=100, required=False)
    email = forms.EmailField(label="E-mail", max_length=254)

    def clean_first_name(self) -> str:
        name: str = self.cleaned_data["first_name"].strip()
        if not name:
            raise ValidationError("Enter a first name.")
        return name
