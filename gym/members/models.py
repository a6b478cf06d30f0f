"""A gym's members (tables from sql/application, in the affiliate's own database)."""

from django.db import models
from django.db.models.functions import Now

from affiliates.silos import affiliate_model


@affiliate_model
class Member(models.Model):
    class Gender(models.TextChoices):
        FEMALE = "F", "Female"
        MALE = "M", "Male"
        OTHER = "X", "Other / not given"

    class Kind(models.TextChoices):
        MEMBER = "member", "Member"
        DROP_IN = "drop_in", "Drop-in"

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True, default="")
    email = models.EmailField(max_length=254, unique=True)
    gender = models.CharField(max_length=1, choices=Gender.choices, default=Gender.OTHER)
    birth_date = models.DateField(null=True, blank=True)
    joined_on = models.DateField(db_default=Now())
    is_active = models.BooleanField(default=True)
    hide_scores = models.BooleanField(default=False, help_text="Hide this member's results from leaderboards.")
    # A drop-in is a visitor (a name, an e-mail, their visits and results), not one of the gym's members.
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MEMBER)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        managed = False
        db_table = "member"
        ordering = ["last_name", "first_name", "id"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@affiliate_model
class GymEvent(models.Model):
    """Something a gym's staff did that leaves nothing behind to see (a result or a workout deleted, a
    member deactivated): who, when, and what it was. Append-only (sql/application/V8)."""

    class Kind(models.TextChoices):
        RESULT_DELETED = "result_deleted", "Result deleted"
        WORKOUT_DELETED = "workout_deleted", "Workout deleted"
        MEMBER_DEACTIVATED = "member_deactivated", "Member deactivated"
        MEMBER_REACTIVATED = "member_reactivated", "Member reactivated"
        PROGRAMMING_COPIED = "programming_copied", "Programming copied"

    at = models.DateTimeField(db_default=Now(), editable=False)
    actor = models.TextField(help_text="The login that did it (request.user.get_username()).")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    detail = models.JSONField(default=dict, help_text="What it was, as it was: names, scores, ids.")

    class Meta:
        managed = False
        db_table = "gym_event"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.actor}"
