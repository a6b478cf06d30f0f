import datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from gym.members.models import Member
from gym.widgets import ListSelect
from gym.workouts.models import (
    PART_SUGGESTIONS,
    Exercise,
    Participation,
    ScalingLevel,
    ScoreType,
    Workout,
    WorkoutExercise,
)
from gym.workouts.scores import format_time_ms, parse_time_cap

# Only django-stubs' ModelForm is generic: Django's takes no type argument at run time.
if TYPE_CHECKING:
    _ExerciseModelForm = forms.ModelForm[Exercise]
    _WorkoutModelForm = forms.ModelForm[Workout]
else:
    _ExerciseModelForm = _WorkoutModelForm = forms.ModelForm

_FieldT = TypeVar("_FieldT", bound=forms.Field)


def _field(form: forms.BaseForm, name: str, kind: type[_FieldT]) -> _FieldT:
    """``form.fields[name]`` as the ``kind`` of field the form declares (or the model gives) under that name."""
    # The stubs type every form field as a plain Field; the kind is known only from the form's definition.
    return cast(_FieldT, form.fields[name])


class ExerciseForm(_ExerciseModelForm):
    class Meta:
        model = Exercise
        fields = ["name", "category", "unit", "description"]

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())  # "Back  Squat" is Back Squat
        if Exercise.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).exists():
            raise ValidationError("The library already has an exercise with this name.")
        return name


#: Movement rows a workout may have (a chipper's dozen and more).
MAX_MOVEMENTS = 40


class PartInput(forms.TextInput):
    """A free text with the usual parts of a day offered (a ``<datalist>``)."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"list": "part-suggestions", "autocomplete": "off", **(attrs or {})})

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        options = format_html_join("", '<option value="{}">', ((part,) for part in PART_SUGGESTIONS))
        return format_html(
            '{}<datalist id="part-suggestions">{}</datalist>', super().render(name, value, attrs, renderer), options
        )


#: Bounds a coach can mean (the database accepts any positive integer).
FIRST_PROGRAMMING_DAY, LAST_PROGRAMMING_DAY = datetime.date(2000, 1, 1), datetime.date(2099, 12, 31)
MAX_REPS_PER_ROUND = 100_000


TIME_CAP_HELP = "In minutes (20 is twenty minutes), or m:ss, e.g. 7:30; leave empty for none."


def _time_cap(text: str) -> int | None:
    """A time cap as typed (minutes unless m:ss) in seconds; None when left empty."""
    text = text.strip()
    return parse_time_cap(text) if text else None


class WorkoutForm(_WorkoutModelForm):
    scaling_levels = forms.MultipleChoiceField(
        choices=ScalingLevel.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[ScalingLevel.RX, ScalingLevel.SCALED],
    )
    time_cap = forms.CharField(required=False, max_length=20, help_text=TIME_CAP_HELP)

    class Meta:
        model = Workout
        fields = [
            "name",
            "scheduled_on",
            "track",
            "part",
            "description",
            "score_type",
            "scaling_levels",
            "tiebreak_scheme",
            "reps_per_round",
            "rep_max",
            "published_at",
            "draft",
        ]
        widgets = {
            "scheduled_on": forms.DateInput(attrs={"type": "date"}),
            "published_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "description": forms.Textarea(attrs={"rows": 4}),
            "part": PartInput,
        }
        help_texts = {
            "reps_per_round": "Reps in one round (AMRAP) or the whole workout (for time); lets people type CAP+15.",
            "published_at": "Leave empty and athletes see it once it is saved; coaches always see it.",
            "part": "Its part of the day (warm-up, strength, metcon…): choose one or type your own.",
        }
        labels = {
            "scheduled_on": "Date",
            "tiebreak_scheme": "Tiebreak",
            "rep_max": "Rep max",
            "published_at": "Athletes see it from",
            "draft": "Draft: keep it from athletes until I publish it",
        }

    field_order = [
        "name",
        "scheduled_on",
        "track",
        "part",
        "description",
        "score_type",
        "time_cap",
        "reps_per_round",
        "rep_max",
        "scaling_levels",
        "tiebreak_scheme",
        "published_at",
        "draft",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reps = _field(self, "reps_per_round", forms.IntegerField)
        reps.min_value, reps.max_value = 1, MAX_REPS_PER_ROUND
        reps.validators += [MinValueValidator(1), MaxValueValidator(MAX_REPS_PER_ROUND)]
        reps.widget.attrs.update(min=1, max=MAX_REPS_PER_ROUND)
        rep_max = self.fields["rep_max"]
        rep_max.validators += [MinValueValidator(1), MaxValueValidator(20)]
        rep_max.widget.attrs.update(min=1, max=20)
        if self.instance.pk and self.instance.time_cap_seconds:
            self.initial["time_cap"] = format_time_ms(self.instance.time_cap_seconds * 1000)

    def clean_track(self) -> str:
        return _track(self.cleaned_data["track"])

    def clean_part(self) -> str:
        return " ".join(self.cleaned_data["part"].split())

    def clean_scheduled_on(self) -> datetime.date | None:
        return _programming_day(self.cleaned_data["scheduled_on"])

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        assert data is not None  # a ModelForm's clean returns its cleaned_data (the stubs allow None)
        if data.get("rep_max") and data.get("score_type") != ScoreType.LOAD:
            self.add_error("rep_max", "A rep max is for a load workout (a 1RM, a 5RM): choose Load, or leave it empty.")
        return data

    def clean_time_cap(self) -> int | None:
        return _time_cap(self.cleaned_data["time_cap"])

    def save(self, commit: bool = True) -> Workout:
        self.instance.time_cap_seconds = self.cleaned_data.get("time_cap")
        self.instance.scaling_levels = [
            level for level, _ in ScalingLevel.choices if level in self.cleaned_data["scaling_levels"]
        ]
        return super().save(commit)


def _track(text: str) -> str:
    """A track as programming groups it: spaces collapsed, lower case ("Strength " is strength)."""
    return " ".join(text.split()).lower() or "main"


def _programming_day(day: datetime.date | None) -> datetime.date | None:
    if day and not (FIRST_PROGRAMMING_DAY <= day <= LAST_PROGRAMMING_DAY):
        raise ValidationError(
            f"Choose a date between {FIRST_PROGRAMMING_DAY:%Y} and {LAST_PROGRAMMING_DAY:%Y}, as YYYY-MM-DD."
        )
    return day


class BenchmarkAddForm(forms.Form):
    """Put a library benchmark on a day's programming."""

    scheduled_on = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    track = forms.CharField(max_length=40, initial="main")

    def clean_scheduled_on(self) -> datetime.date | None:
        return _programming_day(self.cleaned_data["scheduled_on"])

    def clean_track(self) -> str:
        return _track(self.cleaned_data["track"])


class _MovementRows(BaseInlineFormSet):  # type: ignore[type-arg]  # generic only in the stubs
    """A workout's movement rows: the exercise list is read once for all the rows, not once per row."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._exercise_choices: list[Any] | None = None

    def add_fields(self, form: forms.ModelForm, index: int | None) -> None:  # type: ignore[type-arg]
        super().add_fields(form, index)
        if "ORDER" in form.fields:  # can_order: the row's place, which the page's arrows also set
            order = _field(form, "ORDER", forms.IntegerField)
            order.label, order.min_value = "Position", 1
            order.validators.append(MinValueValidator(1))
            order.widget.attrs.update(min=1, max=MAX_MOVEMENTS, size=3, **{"class": "order"})
        field = _field(form, "exercise", forms.ModelChoiceField)
        if self._exercise_choices is None:
            self._exercise_choices = list(field.choices)  # type: ignore[arg-type]  # a ModelChoiceIterator
        field.choices = self._exercise_choices


MovementFormSet = inlineformset_factory(
    Workout,
    WorkoutExercise,
    formset=_MovementRows,
    fields=["exercise", "prescription"],
    widgets={"exercise": ListSelect},
    extra=3,
    can_delete=True,
    can_delete_extra=True,
    can_order=True,
    max_num=MAX_MOVEMENTS,
    validate_max=True,
)


class TimeCapForm(forms.Form):
    """The workout's time cap, fixed from its results sheet (the rows typed so far stay as typed)."""

    time_cap = forms.CharField(required=False, max_length=20, label="Time cap", help_text=TIME_CAP_HELP)

    def clean_time_cap(self) -> int | None:
        return _time_cap(self.cleaned_data["time_cap"])


def _time_help(workout: Workout) -> str:
    """For time: CAP+N is suggested only where it can be read (a cap, and the workout's total reps)."""
    if not workout.time_cap_seconds:
        return "m:ss, e.g. 12:34"
    if workout.reps_per_round:
        return "m:ss, e.g. 12:34, or CAP+15 if the cap stopped them 15 reps short"
    return "m:ss, e.g. 12:34, or CAP 85 reps if the cap stopped them after 85 reps"


def _rounds_reps_help(workout: Workout) -> str:
    if workout.reps_per_round:
        return f"rounds+reps, e.g. 5+12 (a round is {workout.reps_per_round} reps; a bare number counts reps)"
    return "rounds+reps, e.g. 5+12"


def score_help(workout: Workout) -> str:
    """How a score on this workout is typed, for the people typing it."""
    helps: dict[str, str] = {
        ScoreType.TIME: _time_help(workout),
        ScoreType.ROUNDS_REPS: _rounds_reps_help(workout),
        ScoreType.LOAD: "e.g. 102.5 kg or 225 lb",
        ScoreType.DISTANCE: "e.g. 2345 m, 5 km",
        ScoreType.PASS_FAIL: "pass or fail",
    }
    return helps.get(workout.score_type, "")


CONFIRM_LABEL = "Yes, this result is right"


class ResultForm(forms.Form):
    STATUS_CHOICES = [
        (Participation.Status.FINISHED, "Finished (or capped: type it as the score)"),
        (Participation.Status.DNF, "Did not finish"),
        (Participation.Status.DQ, "Disqualified"),
        (Participation.Status.WITHDRAWN, "Withdrawn"),
    ]
    member = forms.ModelChoiceField(queryset=Member.objects.none(), empty_label="Choose a member", widget=ListSelect)
    scaling_level = forms.ChoiceField(choices=())
    status = forms.ChoiceField(choices=STATUS_CHOICES, initial=Participation.Status.FINISHED)
    score = forms.CharField(required=False, max_length=50)
    tiebreak = forms.CharField(required=False, max_length=20)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    # Shown (as a checkbox) only when the member already has a result on this workout.
    replace = forms.BooleanField(required=False, label="Replace the existing result", widget=forms.HiddenInput)
    # Shown (as a checkbox) only when the result is far outside what the workout or the member allows.
    confirm = forms.BooleanField(required=False, label=CONFIRM_LABEL, widget=forms.HiddenInput)

    def ask_to_confirm(self, warnings: list[str]) -> None:
        """The result looks wrong: say why, and save it only once the coach ticks that it is right."""
        self.fields["confirm"].widget = forms.CheckboxInput()
        self.add_error("score", f"Please check: {' '.join(warnings)} Tick “{CONFIRM_LABEL}” and save again to keep it.")

    def ask_to_replace(self, existing: Participation, shown: str) -> None:
        """The member already has a result: say which, and offer to replace it."""
        when = existing.updated_at.strftime("%Y-%m-%d %H:%M") if existing.updated_at else "earlier"
        self.fields["replace"].widget = forms.CheckboxInput()
        self.add_error(
            "member",
            f"{existing.member} already has a result on this workout: {shown} "
            f"({existing.get_scaling_level_display()}), recorded by {existing.recorded_by or 'someone'} on {when}. "
            "Tick “Replace the existing result” and save again to overwrite it.",
        )

    def __init__(self, *args: Any, workout: Workout, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workout = workout
        _field(self, "member", forms.ModelChoiceField).queryset = Member.objects.filter(is_active=True)
        _field(self, "scaling_level", forms.ChoiceField).choices = [
            (v, label) for v, label in ScalingLevel.choices if v in workout.scaling_levels
        ]
        self.fields["score"].help_text = score_help(workout)
        if workout.tiebreak_scheme == Workout.Tiebreak.NONE:
            del self.fields["tiebreak"]
        else:
            by_time = workout.tiebreak_scheme == Workout.Tiebreak.TIME
            self.fields["tiebreak"].help_text = "time at the tiebreak, e.g. 7:45" if by_time else "reps at the tiebreak"


class SheetRowForm(forms.Form):
    """One member's row on a results sheet (prefix ``m<member id>``); parsing is ``result_values``'s."""

    scaling_level = forms.ChoiceField(choices=(), label="Level")
    score = forms.CharField(required=False, max_length=50)
    tiebreak = forms.CharField(required=False, max_length=20)
    status = forms.ChoiceField(choices=ResultForm.STATUS_CHOICES, initial=Participation.Status.FINISHED)
    # Rendered only on a row whose result looks wrong (result_warnings): ticked, the row is saved as typed.
    confirm = forms.BooleanField(required=False, label=CONFIRM_LABEL)

    def __init__(self, *args: Any, workout: Workout, member: Member, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.member = member
        levels = workout.scaling_level_labels
        recorded = (self.initial or {}).get("scaling_level")
        if recorded and recorded not in workout.scaling_levels:
            # A result at a level the workout no longer offers: shown as it is, so an untouched row
            # is not rewritten at another level (a changed one is refused by result_values).
            levels = [*levels, (recorded, f"{ScalingLevel(recorded).label} (no longer offered)")]
        _field(self, "scaling_level", forms.ChoiceField).choices = levels
        _field(self, "status", forms.ChoiceField).choices = [
            (Participation.Status.FINISHED, "Finished"),
            (Participation.Status.DNF, "Did not finish"),
            (Participation.Status.DQ, "Disqualified"),
            (Participation.Status.WITHDRAWN, "Withdrawn"),
        ]
        if workout.tiebreak_scheme == Workout.Tiebreak.NONE:
            del self.fields["tiebreak"]
        for name, field in self.fields.items():
            field.widget.attrs["aria-label"] = f"{field.label or name.title()} for {member}"
        self.fields["score"].widget.attrs.update(autocomplete="off", inputmode="text", size=10)
        if "tiebreak" in self.fields:
            self.fields["tiebreak"].widget.attrs.update(autocomplete="off", size=7)
