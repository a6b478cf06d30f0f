"""Programming: the week view, today's workouts first, and the benchmark library (product data from Flyway)."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from affiliates.routing.context import affiliate_context
from gym.workouts.models import Benchmark, Exercise, Workout
from tests.conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)

URLCONF = "fitbuddy.urls_gym"


def test_every_new_gym_has_the_library_and_the_standard_movements(gyms):
    with affiliate_context(gyms.b):
        names = set(Benchmark.objects.values_list("name", flat=True))
        assert {"Fran", "Murph", "Cindy", "Back Squat 5RM", "2k Row"} <= names
        assert not Benchmark.objects.filter(movements__isnull=True).exists()
        fran = Benchmark.objects.get(name="Fran")
        assert [m.exercise.name for m in fran.movements.order_by("position")] == ["Thruster", "Pull-up"]
        assert (fran.score_type, fran.time_cap_seconds, fran.reps_per_round) == ("time", 600, 90)
        assert Exercise.objects.filter(name__in=["Thruster", "Pull-up", "Row", "Deadlift"]).count() == 4
        assert Benchmark.objects.get(name="Back Squat 5RM").rep_max == 5


def test_a_coach_adds_fran_to_a_day_in_one_step(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    with affiliate_context(gyms.a):
        fran = Benchmark.objects.get(name="Fran")
    library = client.get(reverse("workouts:library", urlconf=URLCONF), {"q": "fran", "date": "2026-11-24"})
    page = library.content.decode()
    assert 'data-benchmark="Fran"' in page and 'value="2026-11-24"' in page and 'data-benchmark="Murph"' not in page

    add = reverse("workouts:library_add", args=[fran.pk], urlconf=URLCONF)
    response = client.post(add, {"scheduled_on": "2026-11-24", "track": " Main "})

    assert response.status_code == 302
    with affiliate_context(gyms.a):
        workout = Workout.objects.get(benchmark=fran)
        assert (workout.name, workout.scheduled_on, workout.track) == ("Fran", datetime.date(2026, 11, 24), "main")
        assert (workout.score_type, workout.time_cap_seconds, workout.reps_per_round) == ("time", 600, 90)
        assert [m.exercise.name for m in workout.movements.order_by("position")] == ["Thruster", "Pull-up"]
        assert workout.movements.get(position=1).rx_load_grams == 43_000
    assert response["Location"] == reverse("workouts:detail", args=[workout.pk], urlconf=URLCONF)
    assert "Fran added to Tuesday 24 November 2026 (main)" in client.get(response["Location"]).content.decode()

    again = client.post(add, {"scheduled_on": "2026-11-24", "track": "main"})  # a double click
    assert again["Location"] == response["Location"]
    with affiliate_context(gyms.a):
        assert Workout.objects.filter(benchmark=fran).count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"scheduled_on": "24/11/2026", "track": "main"}, "Enter a valid date"),
        ({"scheduled_on": "1999-01-01", "track": "main"}, "Choose a date between 2000 and 2099"),
        ({"scheduled_on": "2026-11-24", "track": "x" * 41}, "at most 40 characters"),
    ],
)
def test_bad_library_input_is_refused_with_a_message(gyms, data, message):
    client = client_for(gyms.a, gyms.coach_a)
    with affiliate_context(gyms.a):
        fran = Benchmark.objects.get(name="Fran")
    response = client.post(reverse("workouts:library_add", args=[fran.pk], urlconf=URLCONF), data, follow=True)
    assert message in response.content.decode()
    with affiliate_context(gyms.a):
        assert not Workout.objects.filter(benchmark=fran).exists()


def test_the_week_view_shows_workouts_by_day_and_track(gyms):
    with affiliate_context(gyms.a):
        Workout.objects.create(name="Strength day", score_type="load", track="strength", scheduled_on="2026-01-07")
    client = client_for(gyms.a, gyms.coach_a)
    page = client.get(reverse("workouts:week", urlconf=URLCONF), {"start": "2026-01-07"}).content.decode()
    assert "Week of 5 January 2026" in page  # any day of the week opens its Monday
    monday, tuesday, wednesday = (page.index(f">{d}") for d in ("Mon 5 Jan", "Tue 6 Jan", "Wed 7 Jan"))
    assert monday < page.index("Fran") < tuesday < page.index("Squat 1RM") < wednesday < page.index("Strength day")
    assert ">strength</span>" in page and 'aria-current="page"' in page

    empty = client.get(reverse("workouts:week", urlconf=URLCONF), {"start": "2026-03-02"}).content.decode()
    assert "Nothing is programmed this week" in empty and "week of 5 Jan 2026" in empty
    assert client.get(reverse("workouts:week", urlconf=URLCONF), {"start": "2026-13-01"}).status_code == 404


def test_the_dashboard_puts_todays_workout_first_and_a_new_workout_defaults_to_today(gyms):
    today = datetime.date.today()
    with affiliate_context(gyms.a):
        Workout.objects.create(name="Grace for today", score_type="time", scheduled_on=today)
        Workout.objects.create(name="Helen of yesterday", score_type="time", scheduled_on=today - datetime.timedelta(1))
        Workout.objects.create(name="Murph next week", score_type="time", scheduled_on=today + datetime.timedelta(7))
    client = client_for(gyms.a, gyms.coach_a)
    page = client.get("/").content.decode()
    assert page.index("Grace for today") < page.index("Active members") < page.index("Recent workouts")
    # Recent workouts are done ones: what is programmed ahead is on the week page, not among them.
    assert page.index("Recent workouts") < page.index("Helen of yesterday")
    assert "Murph next week" not in page
    form = client.get(reverse("workouts:create", urlconf=URLCONF)).content.decode()
    assert f'value="{today.isoformat()}"' in form
    chosen = client.get(reverse("workouts:create", urlconf=URLCONF), {"date": "2026-12-01"}).content.decode()
    assert 'value="2026-12-01"' in chosen


def test_a_rep_max_is_only_for_a_load_workout(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    data = {
        "name": "Squat 5RM", "scheduled_on": "2026-11-24", "track": "main", "score_type": "time", "rep_max": "5",
        "scaling_levels": ["rx"], "tiebreak_scheme": "none",
        "movements-TOTAL_FORMS": "0", "movements-INITIAL_FORMS": "0",
    }  # fmt: skip
    response = client.post(reverse("workouts:create", urlconf=URLCONF), data)
    assert response.status_code == 200 and "A rep max is for a load workout" in response.content.decode()
    assert client.post(reverse("workouts:create", urlconf=URLCONF), {**data, "score_type": "load"}).status_code == 302
    with affiliate_context(gyms.a):
        assert Workout.objects.get(name="Squat 5RM").rep_max == 5
