"""Error pages in the gym's style with DEBUG off: 403, 404, 500 (no stack trace, no secret), the 503 of a
suspended gym, and the 503 while a refused gym role is repaired."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from affiliates.models import Affiliate
from gym.accounts.models import GymLogin
from gym.workouts import views as workout_views
from tests.conftest import client_for, host
from tests.factories import gym_login

pytestmark = pytest.mark.django_db(transaction=True)

#: What every page of the gym's error style carries (templates/errors/base.html).
STYLE = "background:#101820"


@pytest.fixture(autouse=True)
def _production_errors(settings):
    settings.DEBUG = False


def test_404_is_in_the_gyms_style(gyms):
    response = client_for(gyms.a, gyms.coach_a).get("/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert STYLE in page and "Page not found" in page and "Gym A" in page
    # The gym's name heads the page and titles the tab, not FitBuddy's.
    assert '<div class="top">Gym A</div>' in page and "<title>Page not found · Gym A</title>" in page
    missing = client_for(gyms.a, gyms.coach_a).get("/workouts/999999/")
    assert missing.status_code == 404 and "Page not found" in missing.content.decode()


def test_403_is_in_the_gyms_style(gyms):
    response = client_for(gyms.a, gyms.coach_a).get("/people/")
    assert response.status_code == 403
    assert "No access" in response.content.decode() and "Gym A" in response.content.decode()
    athlete = client_for(gyms.a, gym_login(gyms.a, "ann@a.test", GymLogin.Role.ATHLETE, member=gyms.ann))
    refused = athlete.get("/whiteboard/links/").content.decode()
    assert "Your role at Gym A is athlete" in refused and 'href="/me/"' in refused


def test_500_shows_no_trace_and_no_secret(gyms, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError(f"boom password={settings.SECRET_KEY}")

    monkeypatch.setattr(workout_views, "dashboard_summary", broken)
    client = client_for(gyms.a, gyms.coach_a, raise_request_exception=False)
    response = client.get("/")
    page = response.content.decode()
    assert response.status_code == 500
    assert STYLE in page and "Something went wrong" in page and "Gym A" in page
    assert "Traceback" not in page and "RuntimeError" not in page and "boom" not in page
    assert settings.SECRET_KEY not in page


def test_a_suspended_gym_answers_503_in_the_gyms_style(gyms):
    Affiliate.objects.filter(pk=gyms.a.pk).update(status=Affiliate.Status.SUSPENDED)
    Affiliate.objects.clear_host_cache()
    response = Client(HTTP_HOST=host(gyms.a)).get("/")
    page = response.content.decode()
    assert response.status_code == 503
    assert STYLE in page and "suspended" in page and "Gym A" in page


def test_an_unknown_host_is_a_404_in_the_same_style(db):
    response = Client(HTTP_HOST="nobody.localhost").get("/")
    assert response.status_code == 404 and STYLE in response.content.decode()
