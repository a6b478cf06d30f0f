"""Programming that copies: days made of parts, copies of a day or a week, search, and many movement rows."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from affiliates.routing.context import affiliate_context
from gym.accounts.models import GymLogin
from gym.members.models import GymEvent
from gym.workouts.models import Exercise, Participation, ProgrammingCopy, ScoreType, Workout, WorkoutExercise
from gym.workouts.programming import (
    CopyNeedsConfirming,
    day_parts,
    part_move,
    programming_copy,
    workout_search,
)
from tests.conftest import client_for
from tests.factories import ExerciseFactory, ParticipationFactory, WorkoutExerciseFactory, WorkoutFactory, gym_login

pytestmark = pytest.mark.django_db(transaction=True)

URLCONF = "fitbuddy.urls_gym"
MONDAY = datetime.date(2026, 11, 16)
NEXT_MONDAY = MONDAY + datetime.timedelta(days=7)


def _day_of_three_parts(day: datetime.date, member=None) -> list[Workout]:
    (thruster,) = Exercise.objects.filter(name="Thruster")
    (pull_up,) = Exercise.objects.filter(name="Pull-up")
    warm_up = WorkoutFactory(name="Row and stretch", part="Warm-up", scheduled_on=day, score_type=ScoreType.NONE)
    strength = WorkoutFactory(name="Back squat 5x5", part="Strength", scheduled_on=day, score_type=ScoreType.LOAD)
    metcon = WorkoutFactory(
        name="Thruster ladder",
        part="Metcon",
        scheduled_on=day,
        score_type=ScoreType.TIME,
        time_cap_seconds=720,
        scaling_levels=["rx", "scaled"],
        published_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(18)))
        - datetime.timedelta(days=1),
    )
    WorkoutExerciseFactory(workout=metcon, exercise=thruster, position=1, prescription="21-15-9", rx_load_grams=43_000)
    WorkoutExerciseFactory(workout=metcon, exercise=pull_up, position=2, prescription="21-15-9")
    if member is not None:
        ParticipationFactory(workout=metcon, member=member, score_value=300_000)
    return [warm_up, strength, metcon]


def test_a_new_workout_goes_last_in_its_day_and_track_and_parts_reorder(gyms):
    with affiliate_context(gyms.a):
        warm_up, strength, metcon = _day_of_three_parts(MONDAY)
        other_track = WorkoutFactory(name="Open gym", scheduled_on=MONDAY, track="open")
        positions = dict(Workout.objects.filter(scheduled_on=MONDAY).values_list("name", "part_position"))
        assert positions == {"Row and stretch": 1, "Back squat 5x5": 2, "Thruster ladder": 3, "Open gym": 1}

        part_move(workout=metcon, step=-1)
        [main, open_] = day_parts(day=MONDAY)
        assert (main.track, open_.track) == ("main", "open")
        assert [w.part for w in main.parts] == ["Warm-up", "Metcon", "Strength"]
        assert [w.pk for w in open_.parts] == [other_track.pk]
        part_move(workout=warm_up, step=-1)  # already first: stays
        assert [w.pk for w in day_parts(day=MONDAY)[0].parts] == [warm_up.pk, metcon.pk, strength.pk]

        strength.scheduled_on = MONDAY + datetime.timedelta(days=1)  # moved to another day: last there
        strength.save()
        WorkoutFactory(name="Tuesday first", scheduled_on=strength.scheduled_on)
        tuesday = [w.name for w in day_parts(day=strength.scheduled_on)[0].parts]
        assert tuesday == ["Back squat 5x5", "Tuesday first"]


def test_a_coach_reorders_parts_on_the_day_page(gyms):
    with affiliate_context(gyms.a):
        warm_up, strength, metcon = _day_of_three_parts(MONDAY)
    client = client_for(gyms.a, gyms.coach_a)
    page = client.get(reverse("workouts:day", args=["2026-11-16"], urlconf=URLCONF)).content.decode()
    assert page.index("Row and stretch") < page.index("Back squat 5x5") < page.index("Thruster ladder")
    assert 'name="part" list="part-suggestions"' in page and 'value="Metcon"' in page

    response = client.post(reverse("workouts:move_part", args=[metcon.pk], urlconf=URLCONF), {"step": "up"})
    assert response.status_code == 302
    with affiliate_context(gyms.a):
        assert [w.pk for w in day_parts(day=MONDAY)[0].parts] == [warm_up.pk, metcon.pk, strength.pk]
    refused = client.post(reverse("workouts:move_part", args=[metcon.pk], urlconf=URLCONF), {"step": "sideways"})
    assert refused.status_code == 302
    with affiliate_context(gyms.a):
        assert [w.pk for w in day_parts(day=MONDAY)[0].parts] == [warm_up.pk, metcon.pk, strength.pk]
    assert client.get(reverse("workouts:day", args=["2026-02-30"], urlconf=URLCONF)).status_code == 404


def test_the_new_workout_form_is_prefilled_with_the_days_part(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    url = reverse("workouts:create", urlconf=URLCONF)
    page = client.get(url, {"date": "2026-11-16", "track": "Strength", "part": "Metcon"}).content.decode()
    assert 'value="2026-11-16"' in page and 'value="strength"' in page and 'value="Metcon"' in page
    assert '<datalist id="part-suggestions">' in page
    bad = client.get(url, {"date": "16/11/2026", "part": "x" * 80})
    assert bad.status_code == 200 and "x" * 80 not in bad.content.decode()


def test_copying_a_week_copies_workouts_movements_parts_and_order_not_results(gyms):
    with affiliate_context(gyms.a):
        originals = _day_of_three_parts(MONDAY + datetime.timedelta(days=2), member=gyms.ann)
        WorkoutFactory(
            name="Sunday run", scheduled_on=MONDAY + datetime.timedelta(days=6), track="endurance", draft=True
        )
        outcome = programming_copy(
            source=MONDAY + datetime.timedelta(days=3),  # any day of the week: its Monday is used
            target=NEXT_MONDAY + datetime.timedelta(days=4),
            days=7,
            actor="coach_a",
            token=uuid.uuid4(),
        )
        assert (outcome.target_start, outcome.workouts, outcome.repeated) == (NEXT_MONDAY, 4, False)
        copies = list(
            Workout.objects.filter(scheduled_on__gte=NEXT_MONDAY).order_by("scheduled_on", "track", "part_position")
        )
        wednesday = NEXT_MONDAY + datetime.timedelta(days=2)
        assert [(w.scheduled_on, w.track, w.part, w.part_position, w.name) for w in copies] == [
            (wednesday, "main", "Warm-up", 1, "Row and stretch"),
            (wednesday, "main", "Strength", 2, "Back squat 5x5"),
            (wednesday, "main", "Metcon", 3, "Thruster ladder"),
            (NEXT_MONDAY + datetime.timedelta(days=6), "endurance", "", 1, "Sunday run"),
        ]
        metcon = copies[2]
        assert (metcon.score_type, metcon.time_cap_seconds, metcon.scaling_levels) == ("time", 720, ["rx", "scaled"])
        assert [(m.exercise.name, m.prescription, m.rx_load_grams) for m in metcon.movements.order_by("position")] == [
            ("Thruster", "21-15-9", 43_000),
            ("Pull-up", "21-15-9", None),
        ]
        assert not Participation.objects.filter(workout__in=copies).exists()
        assert Participation.objects.filter(workout=originals[2]).count() == 1
        # The publish time keeps its distance from the day; one shown at once is shown from its day's start.
        assert metcon.published_at == originals[2].published_at + datetime.timedelta(days=7)
        start_of_day = timezone.make_aware(datetime.datetime.combine(wednesday, datetime.time.min))
        assert copies[0].published_at == start_of_day
        # A draft's copy is a draft; the others are not.
        assert [w.draft for w in copies] == [False, False, False, True]
        event = GymEvent.objects.get(kind=GymEvent.Kind.PROGRAMMING_COPIED)
        assert event.actor == "coach_a" and event.detail["target"] == NEXT_MONDAY.isoformat()
        assert sorted(event.detail["workout_ids"]) == sorted(w.pk for w in copies)


def test_copying_onto_programming_asks_first_and_the_same_form_twice_copies_once(gyms):
    with affiliate_context(gyms.a):
        _day_of_three_parts(MONDAY)
        there = WorkoutFactory(name="Already there", scheduled_on=NEXT_MONDAY)
        token = uuid.uuid4()
        with pytest.raises(CopyNeedsConfirming) as asked:
            programming_copy(source=MONDAY, target=NEXT_MONDAY, days=1, actor="coach_a", token=token)
        assert [w.pk for w in asked.value.existing] == [there.pk]
        assert Workout.objects.filter(scheduled_on=NEXT_MONDAY).count() == 1
        assert not ProgrammingCopy.objects.exists() and not GymEvent.objects.exists()

        first = programming_copy(
            source=MONDAY, target=NEXT_MONDAY, days=1, actor="coach_a", token=token, confirmed=True
        )
        again = programming_copy(
            source=MONDAY, target=NEXT_MONDAY, days=1, actor="coach_a", token=token, confirmed=True
        )
        assert (first.workouts, first.repeated, again.workouts, again.repeated) == (3, False, 3, True)
        names = list(
            Workout.objects.filter(scheduled_on=NEXT_MONDAY).order_by("part_position").values_list("name", flat=True)
        )
        assert names == ["Already there", "Row and stretch", "Back squat 5x5", "Thruster ladder"]
        assert GymEvent.objects.filter(kind=GymEvent.Kind.PROGRAMMING_COPIED).count() == 1


@pytest.mark.parametrize(
    ("source", "target", "days", "message"),
    [
        (MONDAY, MONDAY, 1, "this is the day being copied"),
        (MONDAY, MONDAY + datetime.timedelta(days=3), 7, "this is the week being copied"),
        (MONDAY, datetime.date(1999, 12, 31), 1, "Choose a date between 2000 and 2099"),
        (MONDAY, datetime.date(2099, 12, 30), 7, "Choose a date between 2000 and 2099"),
        (MONDAY + datetime.timedelta(days=1), NEXT_MONDAY, 1, "Nothing is programmed on Tuesday 17 November 2026"),
        (MONDAY, NEXT_MONDAY, 3, "Copy a day or a week"),
    ],
)
def test_a_copy_with_bad_dates_says_why_and_changes_nothing(gyms, source, target, days, message):
    with affiliate_context(gyms.a):
        WorkoutFactory(name="Monday", scheduled_on=MONDAY)
        before = Workout.objects.count()
        with pytest.raises(ValidationError) as refused:
            programming_copy(source=source, target=target, days=days, actor="coach_a", token=uuid.uuid4())
        assert message in " ".join(refused.value.messages)
        assert Workout.objects.count() == before and not ProgrammingCopy.objects.exists()


def test_a_coach_copies_a_week_from_the_week_page_and_confirms(gyms):
    with affiliate_context(gyms.a):
        _day_of_three_parts(MONDAY)
        WorkoutFactory(name="Already there", scheduled_on=NEXT_MONDAY + datetime.timedelta(days=1))
    client = client_for(gyms.a, gyms.coach_a)
    week = client.get(reverse("workouts:week", urlconf=URLCONF), {"start": "2026-11-18"}).content.decode()
    assert "Copy this week" in week and 'value="2026-11-23"' in week and "Warm-up:" in week
    token = str(uuid.uuid4())
    url = reverse("workouts:copy_week", urlconf=URLCONF)
    data = {"start": "2026-11-16", "target": "2026-11-25", "token": token}
    asked = client.post(url, data)
    assert asked.status_code == 200
    page = asked.content.decode()
    assert "already has programming" in page and "Already there" in page and 'name="confirm"' in page
    assert "alongside the one already there, after it" in page  # not "these 1"
    done = client.post(url, {**data, "target": "2026-11-23", "confirm": "on"})
    assert done["Location"] == reverse("workouts:week", urlconf=URLCONF) + "?start=2026-11-23"
    twice = client.post(url, {**data, "target": "2026-11-23", "confirm": "on"}, follow=True)  # a double click
    assert "This copy was already made (3 workouts)" in twice.content.decode()
    with affiliate_context(gyms.a):
        assert (
            Workout.objects.filter(scheduled_on__range=(NEXT_MONDAY, NEXT_MONDAY + datetime.timedelta(days=6))).count()
            == 4
        )
    events = client_for(gyms.a, gyms.owner_a).get(reverse("workouts:events", urlconf=URLCONF)).content.decode()
    assert "3 workouts copied from the week of 2026-11-16 to the week of 2026-11-23" in events


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"target": "23/11/2026"}, "Enter a valid date"),
        ({"target": "2026-11-16"}, "this is the day being copied"),
        ({"target": "2026-11-23", "token": "not-a-token"}, "This form is out of date"),
    ],
)
def test_bad_copy_input_on_the_day_page_is_refused_with_a_message(gyms, data, message):
    with affiliate_context(gyms.a):
        _day_of_three_parts(MONDAY)
        before = Workout.objects.count()
    client = client_for(gyms.a, gyms.coach_a)
    url = reverse("workouts:copy_day", args=["2026-11-16"], urlconf=URLCONF)
    response = client.post(url, {"token": str(uuid.uuid4()), **data}, follow=True)
    assert message in response.content.decode()
    with affiliate_context(gyms.a):
        assert Workout.objects.count() == before


def test_search_finds_every_workout_with_thrusters_by_name_description_or_movement(gyms):
    with affiliate_context(gyms.a):
        (thruster,) = Exercise.objects.filter(name="Thruster")
        by_movement = WorkoutFactory(name="Fran-ish", scheduled_on=datetime.date(2024, 3, 1))
        WorkoutExerciseFactory(workout=by_movement, exercise=thruster, position=1)
        by_name = WorkoutFactory(name="THRUSTER ladder", scheduled_on=datetime.date(2025, 3, 1), track="comp")
        by_description = WorkoutFactory(
            name="Chipper", description="50 thrusters, 50 burpees", scheduled_on=datetime.date(2026, 3, 1)
        )
        accented = WorkoutFactory(name="Café Thrüster", scheduled_on=datetime.date(2026, 4, 1))
        WorkoutFactory(name="Row intervals", scheduled_on=datetime.date(2026, 3, 2))

        found = list(workout_search(query="thruster"))
        assert [w.pk for w in found] == [accented.pk, by_description.pk, by_name.pk, by_movement.pk]
        assert [
            w.pk
            for w in workout_search(
                query="thruster", date_from=datetime.date(2025, 1, 1), date_to=datetime.date(2025, 12, 31)
            )
        ] == [by_name.pk]
        assert [w.pk for w in workout_search(query="thruster", track="comp")] == [by_name.pk]
        assert [w.pk for w in workout_search(query="cafe thruster")] == [accented.pk]
        assert list(workout_search(query="100%_")) == []

    client = client_for(gyms.a, gyms.coach_a)
    page = client.get(reverse("workouts:list", urlconf=URLCONF), {"q": "Thruster"}).content.decode()
    assert "4 workouts found" in page and "Row intervals" not in page and "Chipper" in page
    bad = client.get(reverse("workouts:list", urlconf=URLCONF), {"date_from": "2026-05-01", "date_to": "2026-01-01"})
    assert bad.status_code == 200 and "Choose a date on or after the first one" in bad.content.decode()


def test_search_uses_the_trigram_index_on_a_big_history(gyms):
    with affiliate_context(gyms.a):
        from django.db import connections, router

        alias = router.db_for_read(Workout)
        with connections[alias].cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
            query, params = workout_search(query="thruster").query.sql_with_params()
            cursor.execute("EXPLAIN " + query, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("RESET enable_seqscan")
        assert "workout_search_idx" in plan, plan


def _form_data(rows: list[tuple[str, str]], **extra) -> dict[str, str]:
    data = {
        "name": "Long chipper",
        "scheduled_on": "2026-11-16",
        "track": "main",
        "part": " Metcon ",
        "score_type": "time",
        "scaling_levels": ["rx"],
        "tiebreak_scheme": "none",
        "movements-TOTAL_FORMS": str(len(rows)),
        "movements-INITIAL_FORMS": "0",
        "movements-MIN_NUM_FORMS": "0",
        "movements-MAX_NUM_FORMS": "40",
        **extra,
    }
    for n, (exercise, order) in enumerate(rows):
        data[f"movements-{n}-exercise"] = exercise
        data[f"movements-{n}-prescription"] = f"{(n + 1) * 10} reps"
        data[f"movements-{n}-ORDER"] = order
    return data


def test_a_workout_saves_six_movements_in_the_order_of_their_positions(gyms):
    with affiliate_context(gyms.a):
        ids = [str(ExerciseFactory(name=f"Move {n}").pk) for n in range(6)]
    client = client_for(gyms.a, gyms.coach_a)
    url = reverse("workouts:create", urlconf=URLCONF)
    rows = [(ids[0], "2"), (ids[1], "1"), (ids[2], "3"), (ids[3], "4"), (ids[4], "6"), (ids[5], "5")]
    response = client.post(url, _form_data(rows))
    assert response.status_code == 302
    with affiliate_context(gyms.a):
        workout = Workout.objects.get(name="Long chipper")
        assert workout.part == "Metcon"
        saved = list(workout.movements.order_by("position").values_list("exercise__name", "position"))
        assert saved == [("Move 1", 1), ("Move 0", 2), ("Move 2", 3), ("Move 3", 4), ("Move 5", 5), ("Move 4", 6)]

    # Editing: one row removed, the last moved first; ids stay, positions are 1… again.
    with affiliate_context(gyms.a):
        existing = list(workout.movements.order_by("position"))
    data = _form_data([], name="Long chipper")
    data["movements-TOTAL_FORMS"] = data["movements-INITIAL_FORMS"] = str(len(existing))
    for n, movement in enumerate(existing):
        data.update(
            {
                f"movements-{n}-id": str(movement.pk),
                f"movements-{n}-exercise": str(movement.exercise_id),
                f"movements-{n}-prescription": movement.prescription,
                f"movements-{n}-ORDER": str(n + 2),
            }
        )
    data["movements-5-ORDER"] = "1"
    data["movements-2-DELETE"] = "on"
    assert client.post(reverse("workouts:edit", args=[workout.pk], urlconf=URLCONF), data).status_code == 302
    with affiliate_context(gyms.a):
        names = list(workout.movements.order_by("position").values_list("exercise__name", flat=True))
        assert names == ["Move 4", "Move 1", "Move 0", "Move 3", "Move 5"]
        assert WorkoutExercise.objects.filter(pk=existing[0].pk).exists()


def test_add_a_movement_without_script_comes_back_with_one_more_row_as_typed(gyms):
    with affiliate_context(gyms.a):
        ids = [str(ExerciseFactory(name=f"Move {n}").pk) for n in range(3)]
    client = client_for(gyms.a, gyms.coach_a)
    url = reverse("workouts:create", urlconf=URLCONF)
    data = _form_data([(i, "") for i in ids], name="", add_movement="1")
    response = client.post(url, data)
    page = response.content.decode()
    assert response.status_code == 200 and 'name="movements-TOTAL_FORMS" value="4"' in page
    assert 'name="movements-3-exercise"' in page and "30 reps" in page and 'value="Metcon"' in page
    assert "This field is required" not in page  # nothing was saved, so nothing is missing yet
    with affiliate_context(gyms.a):
        assert not Workout.objects.filter(part="Metcon").exists()


def test_more_movement_rows_than_allowed_are_refused(gyms):
    with affiliate_context(gyms.a):
        exercise = str(ExerciseFactory(name="Move").pk)
    client = client_for(gyms.a, gyms.coach_a)
    response = client.post(reverse("workouts:create", urlconf=URLCONF), _form_data([(exercise, "")] * 41))
    assert response.status_code == 200 and "Please submit at most 40 forms" in response.content.decode()
    with affiliate_context(gyms.a):
        assert not Workout.objects.filter(name="Long chipper").exists()


def test_a_form_opened_before_a_movement_was_added_elsewhere_keeps_that_movement(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    url = reverse("workouts:edit", args=[gyms.squat_a.pk], urlconf=URLCONF)
    with affiliate_context(gyms.a):
        [shown] = gyms.squat_a.movements.all()
        added_meanwhile = WorkoutExerciseFactory(
            workout=gyms.squat_a, exercise=ExerciseFactory(name="Box Jump"), position=2
        )
    data = _form_data([], name="Squat 1RM", score_type="load", part="Strength")
    data.update(
        {
            "movements-TOTAL_FORMS": "2",
            "movements-INITIAL_FORMS": "1",
            "movements-0-id": str(shown.pk),
            "movements-0-exercise": str(shown.exercise_id),
            "movements-0-ORDER": "2",
            "movements-1-exercise": str(shown.exercise_id),
            "movements-1-prescription": "5 x 5",
            "movements-1-ORDER": "1",
        }
    )
    for _ in range(3):  # the same form sent again and again: positions stay 1, 2, 3
        assert client.post(url, data).status_code == 302
        with affiliate_context(gyms.a):
            rows = list(gyms.squat_a.movements.order_by("position").values_list("pk", "position"))
            assert [position for _, position in rows] == list(range(1, len(rows) + 1))
            assert rows[-1][0] == added_meanwhile.pk and (shown.pk, 2) in rows


def test_the_week_and_an_athletes_week_list_a_days_parts_in_order_with_their_labels(gyms):
    today = datetime.date.today()
    with affiliate_context(gyms.a):
        warm_up, strength, metcon = _day_of_three_parts(today)
        part_move(workout=metcon, step=-1)  # metcon before strength
    athlete = gym_login(gyms.a, "ann@a.test", GymLogin.Role.ATHLETE, member=gyms.ann)
    mine = client_for(gyms.a, athlete).get(reverse("athletes:home", urlconf=URLCONF)).content.decode()
    assert mine.index(">Warm-up<") < mine.index(">Metcon<") < mine.index(">Strength<")
    assert mine.index("Row and stretch") < mine.index("Thruster ladder") < mine.index("Back squat 5x5")
    week = client_for(gyms.a, gyms.coach_a).get(reverse("workouts:week", urlconf=URLCONF)).content.decode()
    assert week.index("Warm-up:") < week.index("Metcon:") < week.index("Strength:")


def test_a_new_workout_knows_its_place_and_keeps_it_when_saved_again(gyms):
    with affiliate_context(gyms.a):
        first = Workout.objects.create(name="First", score_type="reps", scheduled_on=MONDAY)
        second = Workout.objects.create(name="Second", score_type="reps", scheduled_on=MONDAY)
        assert (first.part_position, second.part_position) == (1, 2)  # read back from the database
        second.name = "Second, renamed"
        second.save()
        second.refresh_from_db()
        assert second.part_position == 2
        first.part_position, first.name = 0, "Written back whole"  # e.g. an instance made before V11
        first.save()
        first.refresh_from_db()
        assert first.part_position == 1
