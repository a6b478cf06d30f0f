"""Personal records, derived from results, in the affiliate's own database."""

from django.db import models


class PersonalRecord(models.Model):
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
