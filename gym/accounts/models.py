"""A gym's own logins (table ``gym_login`` from sql/application, in the affiliate's own database).

Owners, admins, coaches and athletes of one gym log in on the gym's host by e-mail. They are not
Django's ``auth.User`` (the command center's staff, in the management database): Django's login,
session, password hashing and reset tokens work on any ``AbstractBaseUser``, and
``gym.accounts.backends.GymLoginBackend`` finds these in the current gym's database.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Now

from affiliates.silos import affiliate_model


class GymLoginManager(BaseUserManager["GymLogin"]):
    def get_by_natural_key(self, username: str | None) -> GymLogin:
        return self.get(email=(username or "").strip().lower())


@affiliate_model
class GymLogin(AbstractBaseUser):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        COACH = "coach", "Coach"
        ATHLETE = "athlete", "Athlete"

    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=150, blank=True, default="")
    role = models.CharField(max_length=10, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    member = models.OneToOneField(
        "members.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="login"
    )
    invited_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[GymLoginManager] = GymLoginManager()

    class Meta:
        managed = False
        db_table = "gym_login"
        ordering = ["email"]

    def __str__(self) -> str:
        return self.name or self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    # What Django's templates and the admin's widgets ask a user for; a gym login is never staff.
    is_staff = False
    is_superuser = False

    def get_full_name(self) -> str:
        return str(self)

    def get_short_name(self) -> str:
        return (self.name.split() or [self.email])[0]
