"""Exercises, workouts and participations (results), in the affiliate's own database."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Now

from affiliates.silos import affiliate_model


@affiliate_model
class Exercise(models.Model):
    class Category(models.TextChoices):
        WEIGHTLIFTING = "weightlifting", "Weightlifting"
        GYMNASTICS = "gymnastics", "Gymnastics"
        MONOSTRUCTURAL = "monostructural", "Monostructural"
        STRONGMAN = "strongman", "Strongman"
        OTHER = "other", "Other"

    class Unit(models.TextChoices):
        LOAD = "load", "Load"
        REPS = "reps", "Reps"
        TIME = "time", "Time"
        DISTANCE = "distance", "Distance"
        CALORIES = "calories", "Calories"

    name = models.CharField(max_length=100)
    category = models.CharField(max_length=20, choices=Category.choices)
    unit = models.CharField(max_length=10, choices=Unit.choices)
    description = models.TextField(blank=True, default="")

    class Meta:
        managed = False
        db_table = "exercise"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ScoreType(models.TextChoices):
    TIME = "time", "For time"
    ROUNDS_REPS = "rounds_reps", "AMRAP (rounds + reps)"
    REPS = "reps", "Reps"
    LOAD = "load", "Load"
    CALORIES = "calories", "Calories"
    DISTANCE = "distance", "Distance"
    POINTS = "points", "Points"
    PASS_FAIL = "pass_fail", "Pass / fail"
    NONE = "none", "Unscored"


class ScalingLevel(models.TextChoices):
    RX_PLUS = "rx_plus", "Rx+"
    RX = "rx", "Rx"
    SCALED = "scaled", "Scaled"
    FOUNDATIONS = "foundations", "Foundations"


def default_scaling_levels() -> list[str]:
    return [ScalingLevel.RX, ScalingLevel.SCALED]


@affiliate_model
class Benchmark(models.Model):
    """A workout of FitBuddy's library (Fran, Murph, Back Squat 5RM, 2k Row): product data from V5."""

    class Kind(models.TextChoices):
        GIRL = "girl", "The Girls"
        HERO = "hero", "Hero workouts"
        LIFT = "lift", "Lifts"
        TEST = "test", "Tests"

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    description = models.TextField(blank=True, default="")
    score_type = models.CharField(max_length=12, choices=ScoreType.choices)
    time_cap_seconds = models.IntegerField(null=True, blank=True)
    reps_per_round = models.IntegerField(null=True, blank=True)
    rep_max = models.SmallIntegerField(null=True, blank=True)

    class Meta:
        managed = False
        db_table = "benchmark"
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def time_cap(self) -> str:
        """The time cap as a coach writes it (12:00), or ''."""
        if not self.time_cap_seconds:
            return ""
        minutes, seconds = divmod(self.time_cap_seconds, 60)
        return f"{minutes}:{seconds:02d}"


class PrescribedMovement(models.Model):
    """What a benchmark's and a workout's movements share: an exercise in its place, as prescribed."""

    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="+")
    position = models.SmallIntegerField()
    prescription = models.CharField(max_length=200, blank=True, default="")
    rx_load_grams = models.IntegerField(null=True, blank=True)
    scaled_load_grams = models.IntegerField(null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.position}. {self.exercise} {self.prescription}".strip()


@affiliate_model
class BenchmarkMovement(PrescribedMovement):
    benchmark = models.ForeignKey(Benchmark, on_delete=models.CASCADE, related_name="movements")

    class Meta:
        managed = False
        db_table = "benchmark_movement"
        ordering = ["benchmark", "position"]
        constraints = [
            models.UniqueConstraint(fields=["benchmark", "position"], name="benchmark_movement_benchmark_position_key")
        ]


@affiliate_model
class Workout(models.Model):
    class Tiebreak(models.TextChoices):
        NONE = "none", "None"
        TIME = "time", "Time at tiebreak"
        REPS = "reps", "Reps at tiebreak"

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, default="")
    scheduled_on = models.DateField(db_default=Now())
    track = models.CharField(max_length=40, default="main")
    score_type = models.CharField(max_length=12, choices=ScoreType.choices)
    time_cap_seconds = models.IntegerField(null=True, blank=True)
    reps_per_round = models.IntegerField(null=True, blank=True)
    scaling_levels = ArrayField(
        models.CharField(max_length=12, choices=ScalingLevel.choices),
        default=default_scaling_levels,
    )
    tiebreak_scheme = models.CharField(max_length=10, choices=Tiebreak.choices, default=Tiebreak.NONE)
    benchmark = models.ForeignKey(Benchmark, null=True, blank=True, on_delete=models.SET_NULL, related_name="workouts")
    rep_max = models.SmallIntegerField(
        null=True, blank=True, help_text="For a load test: reps in each set (1 for a 1RM, 5 for a 5RM)."
    )
    # Its part of the day (warm-up, strength, metcon… or '') and place in its day and track (1 first;
    # unset on a new workout: the database puts it last and Django reads the place back, V11).
    part = models.CharField(max_length=40, blank=True, default="")
    part_position = models.SmallIntegerField(db_default=0)
    # When athletes see it (None: as soon as it exists); coaches always do.
    published_at = models.DateTimeField(null=True, blank=True)
    # Kept from athletes until a coach publishes it (gym/workouts/publishing.py), whatever published_at says.
    draft = models.BooleanField(default=False)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    exercises = models.ManyToManyField(Exercise, through="WorkoutExercise", related_name="workouts")

    class Meta:
        managed = False
        db_table = "workout"
        ordering = ["-scheduled_on", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def scaling_level_labels(self) -> list[tuple[str, str]]:
        """The levels this workout offers, as (code, what people read: Rx+, Rx, Scaled, Foundations)."""
        return [(level, ScalingLevel(level).label) for level in self.scaling_levels]


@affiliate_model
class WorkoutExercise(PrescribedMovement):
    workout = models.ForeignKey(Workout, on_delete=models.CASCADE, related_name="movements")

    class Meta:
        managed = False
        db_table = "workout_exercise"
        ordering = ["workout", "position"]
        constraints = [
            models.UniqueConstraint(fields=["workout", "position"], name="workout_exercise_workout_position_key")
        ]


@affiliate_model
class Participation(models.Model):
    """One member's result on one workout; ``sort_key`` is set by the database (V3 trigger)."""

    class Status(models.TextChoices):
        FINISHED = "finished", "Finished"
        CAPPED = "capped", "Time-capped"
        DNF = "dnf", "Did not finish"
        DQ = "dq", "Disqualified"
        WITHDRAWN = "withdrawn", "Withdrawn"

    workout = models.ForeignKey(Workout, on_delete=models.CASCADE, related_name="participations")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="participations")
    scaling_level = models.CharField(max_length=12, choices=ScalingLevel.choices, default=ScalingLevel.RX)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.FINISHED)
    score_value = models.BigIntegerField(null=True, blank=True)
    reps_completed = models.IntegerField(null=True, blank=True)
    tiebreak_ms = models.BigIntegerField(null=True, blank=True)
    sort_key = models.DecimalField(max_digits=38, decimal_places=0, null=True, editable=False)
    notes = models.TextField(blank=True, default="")
    performed_on = models.DateField(db_default=Now())
    # Who entered the result first, and who last changed it (a gym login's e-mail).
    entered_by = models.CharField(max_length=254, blank=True, default="")
    recorded_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        managed = False
        db_table = "participation"
        ordering = ["workout", "sort_key", "id"]
        constraints = [models.UniqueConstraint(fields=["workout", "member"], name="participation_workout_member_key")]

    def __str__(self) -> str:
        return f"{self.member} on {self.workout}"


@affiliate_model
class PersonalRecord(models.Model):
    """A member's best result on an exercise, derived from results (gym/workouts/records.py keeps it current)."""

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="personal_records")
    exercise = models.ForeignKey("workouts.Exercise", on_delete=models.CASCADE, related_name="personal_records")
    value = models.BigIntegerField(help_text="In the exercise's unit, as canonical integers.")
    participation = models.ForeignKey(
        "workouts.Participation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    achieved_on = models.DateField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        managed = False
        db_table = "personal_record"
        constraints = [
            models.UniqueConstraint(fields=["member", "exercise"], name="personal_record_member_exercise_key")
        ]

    def __str__(self) -> str:
        return f"{self.member} — {self.exercise}: {self.value}"


#: The parts a day is usually made of, offered as suggestions (a coach may type any other label).
PART_SUGGESTIONS = ["Warm-up", "Skill", "Strength", "Metcon", "Accessory", "Cool-down"]


@affiliate_model
class ProgrammingCopy(models.Model):
    """A day's or a week's programming copied to another date, kept by the token of the form that asked for
    it, so the same form sent twice copies once (sql/application/V11)."""

    token = models.UUIDField(unique=True)
    source_start = models.DateField()
    target_start = models.DateField()
    days = models.SmallIntegerField()
    workouts = models.IntegerField()
    actor = models.TextField()
    at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        managed = False
        db_table = "programming_copy"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.source_start} → {self.target_start} ({self.days} day{'s' if self.days != 1 else ''})"
