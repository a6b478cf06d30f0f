"""A gym's classes: the weekly schedule, holidays, occurrences and bookings (sql/application/V9)."""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models.functions import Now

from affiliates.silos import affiliate_model


@affiliate_model
class ClassSettings(models.Model):
    """The gym's booking rules (one row, id 1): cut-offs in minutes before a class starts."""

    id = models.SmallIntegerField(primary_key=True, default=1)
    booking_cutoff_minutes = models.IntegerField(default=0)
    cancel_cutoff_minutes = models.IntegerField(default=0)
    checkin_opens_minutes = models.IntegerField(default=30)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        managed = False
        db_table = "class_settings"

    def __str__(self) -> str:
        return "Class settings"


@affiliate_model
class ClassSchedule(models.Model):
    """A class of the weekly schedule: every ``weekday`` at ``starts_at`` between its active dates."""

    class Weekday(models.IntegerChoices):
        MONDAY = 1, "Monday"
        TUESDAY = 2, "Tuesday"
        WEDNESDAY = 3, "Wednesday"
        THURSDAY = 4, "Thursday"
        FRIDAY = 5, "Friday"
        SATURDAY = 6, "Saturday"
        SUNDAY = 7, "Sunday"

    name = models.CharField(max_length=80)
    weekday = models.SmallIntegerField(choices=Weekday.choices)
    starts_at = models.TimeField()
    length_minutes = models.SmallIntegerField(default=60)
    coach = models.ForeignKey(
        "accounts.GymLogin", null=True, blank=True, on_delete=models.SET_NULL, related_name="classes"
    )
    capacity = models.SmallIntegerField(default=20)
    track = models.CharField(max_length=40, default="main")
    active_from = models.DateField(db_default=Now())
    active_until = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        managed = False
        db_table = "class_schedule"
        ordering = ["weekday", "starts_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_weekday_display()} {self.starts_at:%H:%M})"

    def runs_on(self, day: datetime.date) -> bool:
        return (
            day.isoweekday() == self.weekday
            and self.active_from <= day
            and (self.active_until is None or day <= self.active_until)
        )


@affiliate_model
class ClassHoliday(models.Model):
    on_date = models.DateField(unique=True)
    reason = models.CharField(max_length=200)

    class Meta:
        managed = False
        db_table = "class_holiday"
        ordering = ["on_date"]

    def __str__(self) -> str:
        return f"{self.on_date}: {self.reason}"


@affiliate_model
class ClassOccurrence(models.Model):
    """One class on one date, persisted once something attaches to it (a booking, a visit, a cancellation)."""

    schedule = models.ForeignKey(ClassSchedule, on_delete=models.CASCADE, related_name="occurrences")
    on_date = models.DateField()
    cancelled_reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        managed = False
        db_table = "class_occurrence"
        ordering = ["on_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "on_date"], name="class_occurrence_schedule_date_key")
        ]

    def __str__(self) -> str:
        return f"{self.schedule.name} {self.on_date:%a %-d %b} {self.schedule.starts_at:%H:%M}"

    @property
    def starts(self) -> datetime.datetime:
        return datetime.datetime.combine(self.on_date, self.schedule.starts_at, tzinfo=datetime.UTC)

    @property
    def ends(self) -> datetime.datetime:
        return self.starts + datetime.timedelta(minutes=self.schedule.length_minutes)


@affiliate_model
class ClassBooking(models.Model):
    """A member's place in a class: booked, waiting, or cancelled; ``checked_in_at`` is their visit."""

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        WAITLISTED = "waitlisted", "Waitlisted"
        CANCELLED = "cancelled", "Cancelled"

    occurrence = models.ForeignKey(ClassOccurrence, on_delete=models.CASCADE, related_name="bookings")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="class_bookings")
    status = models.CharField(max_length=10, choices=Status.choices)
    queued_at = models.DateTimeField(db_default=Now())
    checked_in_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        managed = False
        db_table = "class_booking"
        ordering = ["occurrence", "queued_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["occurrence", "member"], name="class_booking_occurrence_member_key")
        ]

    def __str__(self) -> str:
        return f"{self.member} in {self.occurrence_id} ({self.status})"
