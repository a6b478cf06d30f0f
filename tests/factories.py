"""Test data builders, in one place: factory_boy factories for logins and gym data, and affiliates.

Gym factories create rows through the router, so they land in the database of the affiliate that
is current (``with affiliate_context(gym): MemberFactory()``); outside any affiliate they raise
``NoCurrentAffiliate`` like every other gym query.
"""

from __future__ import annotations

import datetime
import os
import uuid

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory, Password

from affiliates.models import Affiliate, Membership
from affiliates.operations import provisioning
from affiliates.routing.context import affiliate_context
from gym.accounts.models import GymLogin
from gym.members.models import Member
from gym.workouts.models import Exercise, Participation, ScalingLevel, ScoreType, Workout, WorkoutExercise

PASSWORD = "a-long-password-1"


# --- affiliates: registered through the real services, provisioned with the real Flyway ---


#: This test process's letter: pytest-xdist's worker gw0 is "a", gw1 "b", … (one process: "a"). Every
#: affiliate a test makes is named t<letter><hex>, so ``clean_registry`` drops only this process's
#: databases and roles, never those of a test running beside it.
WORKER_LETTER = chr(ord("a") + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0))
#: The database and role name prefix of every affiliate this process's tests make.
TEST_PREFIX = f"fitbuddy_t{WORKER_LETTER}"


def new_slug() -> str:
    """A slug no other test uses (databases and roles named after it are cleaned up by ``clean_registry``)."""
    return f"t{WORKER_LETTER}{uuid.uuid4().hex[:10]}"


def affiliate_requested(slug: str | None = None, **kwargs) -> Affiliate:
    """An affiliate registered as ``requested`` (nothing queued)."""
    slug = new_slug() if slug is None else slug
    defaults = {"name": f"Gym {slug}", "domain": f"{slug}.localhost", "requested_by": "pytest"}
    return provisioning.affiliate_request(slug=slug, enqueue=False, **{**defaults, **kwargs})


def affiliate_provisioned(affiliate: Affiliate | None = None, **kwargs) -> Affiliate:
    """An affiliate provisioned in this process to ``active`` (requested first unless given)."""
    affiliate = affiliate or affiliate_requested(**kwargs)
    provisioning.affiliate_provision(affiliate_id=affiliate.pk, requested_by="pytest")
    return Affiliate.objects.select_related("database_server").get(pk=affiliate.pk)


# --- logins: staff in the management database, a gym's people in the gym's own ---


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = Password(PASSWORD)


def login(username: str, affiliate: Affiliate | None = None, role: str | None = None, **extra):
    """A login with ``PASSWORD``: in ``affiliate``'s own database when a role there is given (a
    ``GymLogin``, e-mail ``<username>@gym.test`` unless the username is one), else a command-center
    user of the management database (``extra`` as Django user fields, e.g. ``is_staff``)."""
    if affiliate is not None and role is not None:
        return gym_login(affiliate, username if "@" in username else f"{username}@gym.test", role, **extra)
    return UserFactory(username=username, **extra)


def gym_login(affiliate: Affiliate, email: str, role: str, *, member=None, password: str | None = PASSWORD, **extra):
    """A login of the gym, in its own database (no usable password when ``password`` is None)."""
    with affiliate_context(affiliate):
        account = GymLogin(email=email.lower(), role=role, member=member, **extra)
        if password is None:
            account.set_unusable_password()
        else:
            account.set_password(password)
        account.save()
    return account


def legacy_membership(affiliate: Affiliate, username: str, role: str, **extra):
    """A gym login as it was before logins moved into each gym: a Django user and a membership row."""
    user = UserFactory(username=username, **extra)
    Membership.objects.create(affiliate=affiliate, user=user, role=role)
    return user


# --- gym data (the current affiliate's database) ---


class MemberFactory(DjangoModelFactory):
    class Meta:
        model = Member

    first_name = factory.Sequence(lambda n: f"Member{n}")
    last_name = ""
    email = factory.LazyAttributeSequence(lambda o, n: f"{o.first_name.lower()}.{n}@gym.test")
    gender = Member.Gender.OTHER


class ExerciseFactory(DjangoModelFactory):
    class Meta:
        model = Exercise
        django_get_or_create = ("name",)  # every gym's library already has the standard movements (V5)

    name = factory.Sequence(lambda n: f"Exercise {n}")
    category = Exercise.Category.WEIGHTLIFTING
    unit = Exercise.Unit.LOAD


class WorkoutFactory(DjangoModelFactory):
    class Meta:
        model = Workout

    name = factory.Sequence(lambda n: f"Workout {n}")
    score_type = ScoreType.REPS
    scaling_levels = factory.LazyFunction(lambda: [ScalingLevel.RX])
    scheduled_on = factory.LazyFunction(datetime.date.today)


class WorkoutExerciseFactory(DjangoModelFactory):
    class Meta:
        model = WorkoutExercise

    workout = factory.SubFactory(WorkoutFactory)
    exercise = factory.SubFactory(ExerciseFactory)
    position = factory.Sequence(lambda n: n + 1)


class ParticipationFactory(DjangoModelFactory):
    """A result row as stored (the sort key trigger ranks it); ``participation_record`` is the service path."""

    class Meta:
        model = Participation

    workout = factory.SubFactory(WorkoutFactory)
    member = factory.SubFactory(MemberFactory)
    scaling_level = ScalingLevel.RX
    status = Participation.Status.FINISHED
    score_value = 100
    performed_on = factory.LazyAttribute(lambda o: o.workout.scheduled_on)
