"""Athletes: invited by the owner, they log in by e-mail, see the published week, log their own scores,
read the board, their progress, and can hide their scores; coaches correct them, and the board says who."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from affiliates.routing.context import affiliate_context
from gym.accounts.models import GymLogin
from gym.workouts.models import Participation, ScoreType
from tests.conftest import client_for, host
from tests.factories import PASSWORD, WorkoutFactory, gym_login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def athlete(gyms):
    """Ann's login (an athlete of gym A), and the week around today: today's workout, a hidden one, tomorrow's."""
    today = timezone.localdate()
    ns = gyms
    ns.ann_login = gym_login(gyms.a, "ann@a.test", GymLogin.Role.ATHLETE, member=gyms.ann)
    with affiliate_context(gyms.a):
        ns.today_wod = WorkoutFactory(
            name="Today Grace", score_type=ScoreType.TIME, time_cap_seconds=600, scheduled_on=today
        )
        ns.unpublished = WorkoutFactory(
            name="Secret Tomorrow",
            scheduled_on=today,
            published_at=timezone.now() + datetime.timedelta(hours=5),
        )
        ns.tomorrow = WorkoutFactory(name="Tomorrow Helen", scheduled_on=today + datetime.timedelta(days=1))
    return ns


def test_an_athlete_sees_the_published_week_logs_their_score_and_reads_the_board(athlete):
    me = client_for(athlete.a, athlete.ann_login)
    assert me.get("/")["Location"] == "/me/"  # their front page is their week
    week = me.get("/me/").content.decode()
    assert "Today Grace" in week and "Secret Tomorrow" not in week
    assert me.get(f"/me/workouts/{athlete.unpublished.pk}/").status_code == 404

    saved = me.post(
        f"/me/workouts/{athlete.today_wod.pk}/", {"scaling_level": "rx", "status": "finished", "score": "4:05"}
    )
    assert saved.status_code == 302
    page = me.get(f"/me/workouts/{athlete.today_wod.pk}/").content.decode()
    assert "Your score is saved." in page and "4:05" in page and "Ann A" in page
    with affiliate_context(athlete.a):
        result = Participation.objects.get(workout=athlete.today_wod, member=athlete.ann)
    assert (result.score_value, result.entered_by, result.recorded_by) == (245_000, "ann@a.test", "ann@a.test")

    # Tomorrow's workout is readable but not loggable yet; nothing is saved.
    refused = me.post(
        f"/me/workouts/{athlete.tomorrow.pk}/",
        {"scaling_level": "rx", "status": "finished", "score": "9:00"},
        follow=True,
    )
    assert "Scores are logged on the day of the workout" in refused.content.decode()
    with affiliate_context(athlete.a):
        assert not Participation.objects.filter(workout=athlete.tomorrow).exists()


def test_a_12_second_fran_from_an_athlete_is_asked_about_before_it_is_saved(athlete):
    me = client_for(athlete.a, athlete.ann_login)
    with affiliate_context(athlete.a):
        WorkoutFactory._meta.model.objects.filter(pk=athlete.today_wod.pk).update(reps_per_round=90)
    url = f"/me/workouts/{athlete.today_wod.pk}/"
    asked = me.post(url, {"scaling_level": "rx", "status": "finished", "score": "0:12"}).content.decode()
    assert asked.count('name="confirm"') == 1 and 'type="checkbox"' in asked
    with affiliate_context(athlete.a):
        assert not Participation.objects.filter(workout=athlete.today_wod).exists()
    saved = me.post(url, {"scaling_level": "rx", "status": "finished", "score": "0:12", "confirm": "on"})
    assert saved.status_code == 302
    with affiliate_context(athlete.a):
        assert Participation.objects.get(workout=athlete.today_wod).score_value == 12_000


def test_an_athlete_cannot_reach_the_coaches_pages_nor_log_for_someone_else(athlete):
    me = client_for(athlete.a, athlete.ann_login)
    for url in ("/members/", "/workouts/", f"/workouts/{athlete.today_wod.pk}/", "/people/", "/leaderboards/overall/"):
        assert me.get(url).status_code in (403, 404), url
    # A member field in the post is ignored: the result is always the athlete's own.
    me.post(
        f"/me/workouts/{athlete.today_wod.pk}/",
        {"member": athlete.al.pk, "scaling_level": "rx", "status": "finished", "score": "5:00"},
    )
    with affiliate_context(athlete.a):
        assert list(Participation.objects.filter(workout=athlete.today_wod).values_list("member_id", flat=True)) == [
            athlete.ann.pk
        ]
    # Bad input changes nothing and says why.
    page = me.post(
        f"/me/workouts/{athlete.today_wod.pk}/", {"scaling_level": "rx", "status": "finished", "score": "banana"}
    ).content.decode()
    assert 'class="errorlist' in page
    with affiliate_context(athlete.a):
        assert Participation.objects.get(workout=athlete.today_wod).score_value == 300_000


def test_a_coach_corrects_an_athletes_entry_and_the_board_says_who(athlete):
    me = client_for(athlete.a, athlete.ann_login)
    me.post(f"/me/workouts/{athlete.today_wod.pk}/", {"scaling_level": "rx", "status": "finished", "score": "4:05"})
    with affiliate_context(athlete.a):
        result = Participation.objects.get(workout=athlete.today_wod)
    coach = client_for(athlete.a, athlete.coach_a)
    coach.post(
        f"/workouts/{athlete.today_wod.pk}/?edit={result.pk}",
        {"member": athlete.ann.pk, "scaling_level": "rx", "status": "finished", "score": "4:50"},
    )
    with affiliate_context(athlete.a):
        result.refresh_from_db()
    assert (result.score_value, result.entered_by, result.recorded_by) == (290_000, "ann@a.test", "coach_a@gym.test")
    board = me.get(f"/me/workouts/{athlete.today_wod.pk}/").content.decode()
    assert "4:50" in board and "changed by coach_a" in board


def test_an_athlete_hides_their_scores_from_the_boards(athlete):
    me = client_for(athlete.a, athlete.ann_login)
    me.post(f"/me/workouts/{athlete.today_wod.pk}/", {"scaling_level": "rx", "status": "finished", "score": "4:05"})
    me.post("/me/privacy/", {"hide_scores": "1"})
    coach_board = (
        client_for(athlete.a, athlete.coach_a).get(f"/workouts/{athlete.today_wod.pk}/leaderboard/").content.decode()
    )
    assert "Ann A" not in coach_board
    assert "4:05" in me.get("/me/progress/").content.decode()  # still hers to see
    me.post("/me/privacy/", {"hide_scores": "0"})
    assert (
        "Ann A"
        in client_for(athlete.a, athlete.coach_a).get(f"/workouts/{athlete.today_wod.pk}/leaderboard/").content.decode()
    )


def test_the_owner_invites_an_athlete_who_sets_a_password_and_logs_in_by_e_mail(gyms, settings):
    owner = client_for(gyms.a, gyms.owner_a)
    invited = owner.post("/people/", {"email": "Al@A.test", "role": "athlete", "name": ""}, follow=True)
    assert "Invitation sent to al@a.test" in invited.content.decode()
    assert [m.to for m in mail.outbox] == [["al@a.test"]] and "invited to Gym A" in mail.outbox[0].subject
    with affiliate_context(gyms.a):
        al = GymLogin.objects.get(email="al@a.test")
    assert (al.role, al.member_id, al.has_usable_password()) == ("athlete", gyms.al.pk, False)

    path = "/" + re.search(r"https?://\S+/(reset/\S+/\S+/)", mail.outbox[0].body).group(1)
    athlete_client = Client(HTTP_HOST=host(gyms.a))
    step = athlete_client.get(path)
    athlete_client.post(step["Location"], {"new_password1": "al-new-pass-77", "new_password2": "al-new-pass-77"})
    assert athlete_client.post("/login/", {"username": "AL@a.test", "password": "al-new-pass-77"}).status_code == 302
    assert "Hi Al" in athlete_client.get("/me/").content.decode()

    # The same address twice, or an athlete with no member, is refused and nothing is made.
    again = owner.post("/people/", {"email": "al@a.test", "role": "athlete"}).content.decode()
    assert "already has a login here" in again
    nobody = owner.post("/people/", {"email": "stranger@a.test", "role": "athlete"}).content.decode()
    assert "No member has the e-mail stranger@a.test" in nobody
    with affiliate_context(gyms.a):
        assert not GymLogin.objects.filter(email="stranger@a.test").exists()


def test_the_owner_changes_roles_and_removes_logins_but_never_the_last_owner(gyms):
    owner = client_for(gyms.a, gyms.owner_a)
    owner.post(f"/people/{gyms.coach_a.pk}/role/", {"role": "admin"})
    removed = owner.post(f"/people/{gyms.coach_a.pk}/remove/", follow=True).content.decode()
    assert "is removed" in removed
    admin = client_for(gyms.a, gyms.admin_a)
    refused = admin.post(f"/people/{gyms.owner_a.pk}/role/", {"role": "coach"}, follow=True).content.decode()
    assert "Only an owner can" in refused
    refused = owner.post(f"/people/{gyms.owner_a.pk}/role/", {"role": "coach"}, follow=True).content.decode()
    assert "only owner" in refused
    assert client_for(gyms.a, gyms.admin_a).post(f"/people/{gyms.owner_a.pk}/remove/").status_code == 302
    with affiliate_context(gyms.a):
        assert dict(GymLogin.objects.values_list("email", "role")) == {
            "owner_a@gym.test": "owner",
            "admin_a@gym.test": "admin",
        }
    # A coach has no say over logins; a removed login no longer logs in.
    assert (
        Client(HTTP_HOST=host(gyms.a))
        .post("/login/", {"username": "coach_a@gym.test", "password": PASSWORD})
        .status_code
        == 200
    )
