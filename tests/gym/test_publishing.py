"""Publish time: athletes see a workout from its publish time (never a draft), coaches see every workout
marked with when it publishes, and publish it now or take it back from the week view and its page."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from affiliates.routing.context import affiliate_context
from gym.accounts.models import GymLogin
from gym.workouts.models import ScoreType, Workout
from gym.workouts.services import participation_record
from tests.conftest import client_for
from tests.factories import WorkoutFactory, gym_login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def week(gyms):
    ns = gyms
    today = timezone.localdate()
    ns.ann_login = gym_login(gyms.a, "ann@a.test", GymLogin.Role.ATHLETE, member=gyms.ann)
    with affiliate_context(gyms.a):
        ns.tomorrow = WorkoutFactory(
            name="Tomorrow Hidden",
            score_type=ScoreType.TIME,
            scheduled_on=today + datetime.timedelta(days=1),
            published_at=timezone.now() + datetime.timedelta(hours=12),
        )
        ns.draft = WorkoutFactory(name="Draft Today", scheduled_on=today, draft=True)
        ns.open = WorkoutFactory(name="Open Today", scheduled_on=today)
    return ns


def test_an_athlete_cannot_reach_tomorrows_unpublished_workout_by_url(week):
    me = client_for(week.a, week.ann_login)
    page = me.get("/me/").content.decode()
    assert "Open Today" in page and "Tomorrow Hidden" not in page and "Draft Today" not in page
    for hidden in (week.tomorrow, week.draft):
        assert me.get(f"/me/workouts/{hidden.pk}/").status_code == 404
        assert me.post(f"/me/workouts/{hidden.pk}/", {"scaling_level": "rx", "score": "3:00"}).status_code == 404
        # The coaches' pages of it are not theirs either.
        assert me.get(f"/workouts/{hidden.pk}/").status_code == 403
        assert me.get(f"/workouts/{hidden.pk}/leaderboard/").status_code == 403


def test_an_athletes_progress_leaves_out_results_on_unpublished_workouts(week):
    with affiliate_context(week.a):
        Workout.objects.filter(pk=week.tomorrow.pk).update(scheduled_on=timezone.localdate())
        week.tomorrow.refresh_from_db()
        participation_record(workout=week.tomorrow, member=week.ann, scaling_level="rx", score_text="3:33")
    page = client_for(week.a, week.ann_login).get("/me/progress/").content.decode()
    assert "Tomorrow Hidden" not in page
    coach_view = client_for(week.a, week.coach_a).get(f"/members/{week.ann.pk}/").content.decode()
    assert "Tomorrow Hidden" in coach_view  # coaches see everything


def test_coaches_see_every_workout_marked_and_publish_or_unpublish_it(week):
    coach = client_for(week.a, week.coach_a)
    start = timezone.localdate().isoformat()
    page = coach.get(f"/workouts/week/?start={start}").content.decode()
    assert "Tomorrow Hidden" in page and "Scheduled to publish at" in page
    assert "Draft: athletes do not see it" in page
    dashboard = coach.get("/").content.decode()
    assert "Draft: athletes do not see it" in dashboard and "Draft Today" in dashboard
    listed = coach.get("/workouts/").content.decode()
    assert listed.count('data-publish="scheduled"') == 1 and listed.count('data-publish="draft"') == 1
    me = client_for(week.a, week.ann_login)

    back = f"/workouts/week/?start={start}"
    done = coach.post(f"/workouts/{week.tomorrow.pk}/publish/", {"action": "publish", "next": back})
    assert done.status_code == 302 and done["Location"] == back
    assert me.get(f"/me/workouts/{week.tomorrow.pk}/").status_code == 200

    coach.post(f"/workouts/{week.open.pk}/publish/", {"action": "unpublish", "next": "https://evil.example/"})
    assert me.get(f"/me/workouts/{week.open.pk}/").status_code == 404
    with affiliate_context(week.a):
        assert Workout.objects.get(pk=week.open.pk).draft

    # Anything else changes nothing; an off-site "next" is not followed.
    odd = coach.post(f"/workouts/{week.draft.pk}/publish/", {"action": "\x00", "next": "//evil.example/"})
    assert odd["Location"] == f"/workouts/{week.draft.pk}/"
    with affiliate_context(week.a):
        assert Workout.objects.get(pk=week.draft.pk).draft


def test_the_workout_form_sets_a_publish_time_or_keeps_a_draft(week):
    coach = client_for(week.a, week.coach_a)
    form = {
        "name": "Saturday Partner WOD",
        "scheduled_on": (timezone.localdate() + datetime.timedelta(days=2)).isoformat(),
        "track": "main",
        "score_type": "time",
        "scaling_levels": ["rx"],
        "tiebreak_scheme": "none",
        "published_at": (timezone.localtime() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "movements-TOTAL_FORMS": "0",
        "movements-INITIAL_FORMS": "0",
    }
    assert coach.post("/workouts/new/", form).status_code == 302
    assert (
        coach.post("/workouts/new/", {**form, "name": "Kept Back", "published_at": "", "draft": "on"}).status_code
        == 302
    )
    with affiliate_context(week.a):
        scheduled = Workout.objects.get(name="Saturday Partner WOD")
        kept = Workout.objects.get(name="Kept Back")
    assert scheduled.published_at is not None and not scheduled.draft
    assert kept.draft and kept.published_at is None
    me = client_for(week.a, week.ann_login)
    assert me.get(f"/me/workouts/{scheduled.pk}/").status_code == 404
    assert me.get(f"/me/workouts/{kept.pk}/").status_code == 404
    page = coach.get(f"/workouts/{kept.pk}/").content.decode()
    assert "Draft: athletes do not see it" in page and "Publish now" in page
