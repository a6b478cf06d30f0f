"""Undo (issue 18, item 5): deleting a result or a workout, deactivating a member, and the owner's events."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connections
from django.urls import reverse

from affiliates.routing.connections import alias_for
from affiliates.routing.context import affiliate_context
from gym.members.models import GymEvent, Member
from gym.workouts.models import Participation, PersonalRecord, Workout
from tests.conftest import client_for
from tests.gym.test_views import another_gyms_session

pytestmark = pytest.mark.django_db(transaction=True)

URLCONF = "fitbuddy.urls_gym"


def result_delete_url(participation) -> str:
    return reverse("workouts:result_delete", args=[participation.workout_id, participation.pk], urlconf=URLCONF)


def workout_delete_url(workout) -> str:
    return reverse("workouts:delete", args=[workout.pk], urlconf=URLCONF)


def record(gyms, workout, member, score: str, user=None) -> Participation:
    client = client_for(gyms.a, user or gyms.coach_a)
    url = reverse("workouts:detail", args=[workout.pk], urlconf=URLCONF)
    response = client.post(url, {"member": member.pk, "scaling_level": "rx", "status": "finished", "score": score})
    assert response.status_code == 302, response.content.decode()[:2000]
    with affiliate_context(gyms.a):
        return Participation.objects.get(workout=workout, member=member)


def events(gyms) -> list[GymEvent]:
    with affiliate_context(gyms.a):
        return list(GymEvent.objects.order_by("id"))


def test_a_coach_deletes_a_result_and_the_owner_reads_who_and_when(gyms):
    ann = record(gyms, gyms.fran_a, gyms.ann, "3:05")
    coach = client_for(gyms.a, gyms.coach_a)
    edit = coach.get(reverse("workouts:detail", args=[gyms.fran_a.pk], urlconf=URLCONF), {"edit": ann.pk})
    assert result_delete_url(ann) in edit.content.decode()  # the delete button is on the result being edited

    response = coach.post(result_delete_url(ann))

    assert response.status_code == 302
    with affiliate_context(gyms.a):
        assert not Participation.objects.exists()
    [event] = events(gyms)
    assert (event.actor, event.kind) == ("coach_a@gym.test", "result_deleted")
    assert event.detail["member"] == "Ann A" and event.detail["score"] == "3:05" and event.detail["workout"] == "Fran"
    page = client_for(gyms.a, gyms.owner_a).get(reverse("workouts:events", urlconf=URLCONF)).content.decode()
    assert "coach_a" in page and "Result deleted" in page and "Ann A" in page and "3:05" in page
    assert coach.get(reverse("workouts:events", urlconf=URLCONF)).status_code == 403  # for the owner and admins
    assert coach.post(result_delete_url(ann)).status_code == 404  # gone: a second click finds nothing


def test_deleting_a_record_result_gives_the_record_back_to_the_best_remaining_one(gyms):
    record(gyms, gyms.squat_a, gyms.ann, "100 kg")
    with affiliate_context(gyms.a):
        heavier = Workout.objects.create(name="Squat day", score_type="load", scaling_levels=["rx"])
        heavier.movements.create(exercise=gyms.squat, position=1)
    best = record(gyms, heavier, gyms.ann, "110 kg")

    assert client_for(gyms.a, gyms.coach_a).post(result_delete_url(best)).status_code == 302

    with affiliate_context(gyms.a):
        assert PersonalRecord.objects.get(member=gyms.ann, exercise=gyms.squat).value == 100_000


def test_deleting_a_result_refuses_wrong_roles_other_gyms_and_a_get(gyms):
    ann = record(gyms, gyms.fran_a, gyms.ann, "3:05")
    url = result_delete_url(ann)
    assert another_gyms_session(gyms).post(url).status_code == 302  # another gym's login is nobody here
    assert client_for(gyms.a, gyms.staff).post(url).status_code == 403
    assert client_for(gyms.a).post(url).status_code == 302  # anonymous: to the login page
    coach = client_for(gyms.a, gyms.coach_a)
    assert coach.get(url).status_code == 405
    with affiliate_context(gyms.b):
        secret = Workout.objects.get(pk=gyms.secret_b.pk)
    for wrong in (
        # Ids are per gym database: B's workout ids mean nothing on A's host (one beyond A's is no workout).
        reverse("workouts:result_delete", args=[secret.pk + 1000, ann.pk], urlconf=URLCONF),
        reverse("workouts:result_delete", args=[gyms.fran_a.pk, ann.pk + 1000], urlconf=URLCONF),
        reverse("workouts:result_delete", args=[gyms.squat_a.pk, ann.pk], urlconf=URLCONF),
    ):
        assert coach.post(wrong).status_code == 404, wrong
    no_csrf = client_for(gyms.a, gyms.coach_a, enforce_csrf_checks=True)
    assert no_csrf.post(url).status_code == 403
    with affiliate_context(gyms.a):
        assert Participation.objects.filter(pk=ann.pk).exists()
    assert events(gyms) == []


def test_a_workout_without_results_is_deleted_at_once(gyms):
    with affiliate_context(gyms.a):
        empty = Workout.objects.create(name="Rest day", score_type="none", scaling_levels=["rx"])
    response = client_for(gyms.a, gyms.coach_a).post(workout_delete_url(empty))
    assert response.status_code == 302 and response["Location"] == reverse("workouts:list", urlconf=URLCONF)
    with affiliate_context(gyms.a):
        assert not Workout.objects.filter(pk=empty.pk).exists()
    [event] = events(gyms)
    assert (event.kind, event.detail["workout"], event.detail["results"]) == ("workout_deleted", "Rest day", [])


def test_a_workout_with_results_is_deleted_only_after_a_page_listing_them(gyms):
    record(gyms, gyms.fran_a, gyms.ann, "3:05")
    record(gyms, gyms.fran_a, gyms.al, "4:10")
    coach = client_for(gyms.a, gyms.coach_a)

    asked = coach.post(workout_delete_url(gyms.fran_a))

    page = asked.content.decode()
    assert asked.status_code == 200 and "It has 2 results" in page
    assert "Ann A" in page and "3:05" in page and "Al A" in page and "4:10" in page
    assert 'name="confirm" value="delete"' in page and 'name="results" value="2"' in page
    with affiliate_context(gyms.a):
        assert Participation.objects.filter(workout=gyms.fran_a).count() == 2
    for bad in ({"confirm": "delete", "results": "1"}, {"confirm": "delete", "results": "x"}, {"confirm": "yes"}):
        assert coach.post(workout_delete_url(gyms.fran_a), {**bad}).status_code == 200, bad
    with affiliate_context(gyms.a):
        assert Workout.objects.filter(pk=gyms.fran_a.pk).exists()
    assert events(gyms) == []

    done = coach.post(workout_delete_url(gyms.fran_a), {"confirm": "delete", "results": "2"})

    assert done.status_code == 302
    with affiliate_context(gyms.a):
        assert not Workout.objects.filter(pk=gyms.fran_a.pk).exists() and not Participation.objects.exists()
    [event] = events(gyms)
    assert event.actor == "coach_a@gym.test" and [r["member"] for r in event.detail["results"]] == ["Ann A", "Al A"]


def test_deleting_a_workout_refuses_wrong_roles_and_other_gyms(gyms):
    with affiliate_context(gyms.a):
        empty = Workout.objects.create(name="Rest day", score_type="none", scaling_levels=["rx"])
    assert another_gyms_session(gyms).post(workout_delete_url(empty)).status_code == 302
    assert client_for(gyms.a, gyms.staff).post(workout_delete_url(empty)).status_code == 403
    with affiliate_context(gyms.b):
        secret = Workout.objects.get(pk=gyms.secret_b.pk)
    owner = client_for(gyms.a, gyms.owner_a)
    assert owner.post(f"/workouts/{secret.pk + 1000}/delete/").status_code == 404
    with affiliate_context(gyms.a):
        assert Workout.objects.filter(pk=empty.pk).exists()
    with affiliate_context(gyms.b):
        assert Workout.objects.filter(pk=secret.pk).exists()


def test_deactivating_a_member_asks_first(gyms):
    owner = client_for(gyms.a, gyms.owner_a)
    url = reverse("members:deactivate", args=[gyms.ann.pk], urlconf=URLCONF)
    detail = owner.get(reverse("members:detail", args=[gyms.ann.pk], urlconf=URLCONF)).content.decode()
    assert f'href="{url}"' in detail  # a link to the confirmation, not a button that deactivates

    asked = owner.get(url)

    assert asked.status_code == 200 and "Deactivate Ann A?" in asked.content.decode()
    for bad in ({}, {"active": "maybe"}, {"active": ""}):
        assert owner.post(url, bad).status_code == 400, bad
    with affiliate_context(gyms.a):
        assert Member.objects.get(pk=gyms.ann.pk).is_active
    assert client_for(gyms.a, gyms.coach_a).post(url, {"active": "0"}).status_code == 403

    assert owner.post(url, {"active": "0"}).status_code == 302

    with affiliate_context(gyms.a):
        assert not Member.objects.get(pk=gyms.ann.pk).is_active
    [event] = events(gyms)
    assert (event.actor, event.kind, event.detail["member"]) == ("owner_a@gym.test", "member_deactivated", "Ann A")
    assert owner.post(url, {"active": "1"}).status_code == 302
    assert [e.kind for e in events(gyms)] == ["member_deactivated", "member_reactivated"]
    assert owner.post(reverse("members:deactivate", args=[gyms.ann.pk + 1000], urlconf=URLCONF)).status_code == 404


def test_events_cannot_be_changed_or_deleted(gyms):
    ann = record(gyms, gyms.fran_a, gyms.ann, "3:05")
    client_for(gyms.a, gyms.coach_a).post(result_delete_url(ann))
    with affiliate_context(gyms.a):
        [event] = GymEvent.objects.all()
        for statement in ("UPDATE gym_event SET actor = 'nobody'", "DELETE FROM gym_event"):
            with pytest.raises(DatabaseError, match="append-only"):
                with connections[alias_for(gyms.a)].cursor() as cursor:
                    cursor.execute(statement)
        assert GymEvent.objects.get().actor == "coach_a@gym.test"
