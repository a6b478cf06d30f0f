"""Two provisioned affiliates with logins in each, for routing, view and outsider tests."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from affiliates import provisioning
from affiliates.context import affiliate_context
from affiliates.middleware import clear_cache
from affiliates.models import Membership
from gym.members.models import Member
from gym.workouts.models import Exercise, Workout, WorkoutExercise
from tests.conftest import new_slug

PASSWORD = "a-long-password-1"


def make_affiliate(name: str):
    slug = new_slug()
    affiliate = provisioning.affiliate_request(slug=slug, name=name, domain=f"{slug}.localhost", enqueue=False)
    provisioning.affiliate_provision(affiliate_id=affiliate.pk)
    affiliate.refresh_from_db()
    return affiliate


def make_user(username: str, affiliate=None, role: str | None = None, **extra):
    user = get_user_model().objects.create_user(username, password=PASSWORD, **extra)
    if affiliate and role:
        Membership.objects.create(affiliate=affiliate, user=user, role=role)
    return user


def host(affiliate) -> str:
    return affiliate.domains.get().domain


def client_for(affiliate, user=None) -> Client:
    client = Client(HTTP_HOST=host(affiliate))
    if user:
        client.force_login(user)
    return client


@pytest.fixture
def gyms(clean_registry):
    clear_cache()
    a, b = make_affiliate("Gym A"), make_affiliate("Gym B")
    ns = SimpleNamespace(a=a, b=b)
    ns.owner_a = make_user("owner_a", a, "owner")
    ns.admin_a = make_user("admin_a", a, "admin")
    ns.coach_a = make_user("coach_a", a, "coach")
    ns.owner_b = make_user("owner_b", b, "owner")
    ns.staff = make_user("staff", is_staff=True, is_superuser=True)
    with affiliate_context(a):
        ns.ann = Member.objects.create(first_name="Ann", last_name="A", email="ann@a.test", gender="F")
        ns.al = Member.objects.create(first_name="Al", last_name="A", email="al@a.test", gender="M")
        squat = Exercise.objects.create(name="Back Squat", category="weightlifting", unit="load")
        ns.fran_a = Workout.objects.create(
            name="Fran",
            score_type="time",
            time_cap_seconds=600,
            reps_per_round=90,
            scaling_levels=["rx", "scaled"],
            scheduled_on=datetime.date(2026, 1, 5),
        )
        ns.squat_a = Workout.objects.create(
            name="Squat 1RM", score_type="load", scaling_levels=["rx"], scheduled_on=datetime.date(2026, 1, 6)
        )
        WorkoutExercise.objects.create(workout=ns.squat_a, exercise=squat, position=1)
        ns.squat = squat
    with affiliate_context(b):
        ns.bob = Member.objects.create(first_name="Bob", last_name="B", email="bob@b.test", gender="M")
        ns.secret_b = Workout.objects.create(name="B Secret WOD", score_type="reps", scaling_levels=["rx"])
    yield ns
    clear_cache()
