"""Forms of the programming pages: copying a day or a week, searching workouts, adding a movement row."""

from __future__ import annotations

import datetime
from typing import Any, cast

from django import forms
from django.forms.utils import ErrorDict, ErrorList
from django.http import QueryDict

from gym.workouts.forms import MAX_MOVEMENTS, WorkoutForm
from gym.workouts.models import WorkoutExercise
from gym.workouts.programming import FIRST_DAY, LAST_DAY

#: The button that adds a movement row when the page's script does not run (it sends the form as typed).
ADD_MOVEMENT = "add_movement"


class CopyForm(forms.Form):
    """Where to copy a day (a date) or a week (any day of the target week: its Monday is used)."""

    target = forms.DateField(label="Copy to", widget=forms.DateInput(attrs={"type": "date"}))
    # The form's own token: the same form sent twice copies once.
    token = forms.UUIDField(
        widget=forms.HiddenInput, error_messages={"invalid": "This form is out of date: open it again."}
    )
    # Set by the confirmation page: add the copy alongside what the target already has.
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean_target(self) -> datetime.date:
        day: datetime.date = self.cleaned_data["target"]
        if not (FIRST_DAY <= day <= LAST_DAY):
            raise forms.ValidationError(f"Choose a date between {FIRST_DAY:%Y} and {LAST_DAY:%Y}, as YYYY-MM-DD.")
        return day


class SearchForm(forms.Form):
    """The workout list's filters; every field may be left empty."""

    q = forms.CharField(required=False, max_length=100, label="Search", strip=True)
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    track = forms.CharField(required=False, max_length=40)

    def __init__(self, *args: Any, tracks: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["track"].widget = forms.Select(choices=[("", "Every track"), *((t, t) for t in tracks)])
        self.fields["q"].widget.attrs.update(placeholder="Name, description or movement", type="search")

    def clean_q(self) -> str:
        text: str = self.cleaned_data["q"]
        return " ".join("".join(ch for ch in text if ch.isprintable()).split())

    def clean_track(self) -> str:
        return " ".join(self.cleaned_data["track"].split()).lower()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "Choose a date on or after the first one.")
        return data


def movement_rows_added(data: QueryDict) -> QueryDict:
    """The workout form as typed, with one more (empty) movement row."""
    data = data.copy()
    key = "movements-TOTAL_FORMS"
    total = data.get(key, "")
    if total.isdigit() and int(total) < MAX_MOVEMENTS:
        data[key] = str(int(total) + 1)
    return data


def shown_as_typed(form: WorkoutForm, formset: forms.BaseFormSet) -> None:  # type: ignore[type-arg]
    """A form re-shown only to add a row: what was typed, without telling the coach what is missing yet."""
    # Django validates a bound form when its errors are first read: empty ones are read instead.
    form._errors = ErrorDict()  # type: ignore[attr-defined]
    formset._errors = [ErrorDict() for _ in formset.forms]  # type: ignore[attr-defined]
    formset._non_form_errors = ErrorList()  # type: ignore[attr-defined]
    for row in formset.forms:
        row._errors = ErrorDict()


def movement_rows(formset: forms.BaseFormSet) -> tuple[list[WorkoutExercise], list[WorkoutExercise]]:  # type: ignore[type-arg]
    """A valid movement formset's rows to keep, in the order of their positions, and the saved rows removed."""
    kept = [cast(WorkoutExercise, row.instance) for row in formset.ordered_forms]
    removed = [cast(WorkoutExercise, row.instance) for row in formset.deleted_forms if row.instance.pk]
    return kept, removed


def new_workout_initial(params: QueryDict) -> dict[str, Any]:
    """A new workout's form prefilled from the link that opened it (?date=&track=&part=, as a day page
    adds a part): values that cannot be right are left out, the form says the rest."""
    day = params.get("date", "")
    try:
        scheduled_on = datetime.date.fromisoformat(day) if len(day) == 10 else datetime.date.today()
    except ValueError:
        scheduled_on = datetime.date.today()
    initial: dict[str, Any] = {"scheduled_on": scheduled_on}
    for name, longest in (("track", 40), ("part", 40)):
        value = " ".join("".join(ch for ch in params.get(name, "") if ch.isprintable()).split())
        if value and len(value) <= longest:
            initial[name] = value.lower() if name == "track" else value
    return initial
