"""Ranking exactly as docs/domain.md says: level, status, value, tiebreak, shared ranks with skips."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command

from affiliates.routing.context import affiliate_context
from gym.leaderboards.selectors import overall_leaderboard
from gym.members.models import Member
from gym.workouts.models import PersonalRecord, Workout
from gym.workouts.selectors import leaderboard_for_workout
from gym.workouts.services import participation_record
from tests.factories import MemberFactory, ParticipationFactory, WorkoutFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _member(name: str, gender: str = Member.Gender.FEMALE, **extra) -> Member:
    return MemberFactory(first_name=name, email=f"{name.lower()}@gym.test", gender=gender, **extra)


def _board(workout, **filters):
    return [(row.rank, str(row.participation.member), row.score) for row in leaderboard_for_workout(workout, **filters)]


def test_for_time_ranking_levels_status_value_and_shared_ranks(gyms):
    with affiliate_context(gyms.a):
        fran = Workout.objects.get(pk=gyms.fran_a.pk)
        results = [
            ("Scaledfast", "scaled", "2:00"),
            ("Rxslow", "rx", "9:59"),
            ("Rxfast", "rx", "3:00"),
            ("Tie1", "rx", "4:00"),
            ("Tie2", "rx", "4:00"),
            ("Capped80", "rx", "CAP+10"),
            ("Capped60", "rx", "CAP+30"),
        ]
        for name, level, score in results:
            participation_record(workout=fran, member=_member(name), scaling_level=level, score_text=score)

        board = _board(fran)

    assert board == [
        (1, "Rxfast", "3:00"),
        (2, "Tie1", "4:00"),
        (2, "Tie2", "4:00"),
        (4, "Rxslow", "9:59"),
        (5, "Capped80", "CAP+10"),  # every finisher beats every capped athlete; more reps beats fewer
        (6, "Capped60", "CAP+30"),
        (7, "Scaledfast", "2:00"),  # 1 rep Rx'd beats the best scaled score
    ]


def test_higher_is_better_and_tiebreak_decides_equal_scores(gyms):
    with affiliate_context(gyms.a):
        amrap = WorkoutFactory(
            name="Cindy", score_type="rounds_reps", reps_per_round=30, scaling_levels=["rx"], tiebreak_scheme="time"
        )
        participation_record(workout=amrap, member=_member("Low"), scaling_level="rx", score_text="15+3")
        participation_record(
            workout=amrap, member=_member("HighSlow"), scaling_level="rx", score_text="20+5", tiebreak_text="18:30"
        )
        participation_record(
            workout=amrap, member=_member("HighFast"), scaling_level="rx", score_text="20+5", tiebreak_text="17:10"
        )
        participation_record(workout=amrap, member=_member("Mid"), scaling_level="rx", score_text="20 rounds")
        # A bare number is reps where a round's reps are known: 35 reps of Cindy is 1 round and 5 reps.
        participation_record(workout=amrap, member=_member("Bare"), scaling_level="rx", score_text="35")

        assert _board(amrap) == [
            (1, "HighFast", "20 + 5"),
            (2, "HighSlow", "20 + 5"),
            (3, "Mid", "20 + 0"),
            (4, "Low", "15 + 3"),
            (5, "Bare", "1 + 5"),
        ]


def test_filters_re_rank_within_themselves_and_hidden_members_are_left_out(gyms):
    with affiliate_context(gyms.a):
        fran = Workout.objects.get(pk=gyms.fran_a.pk)
        for name, gender, level, score in [
            ("Fa", "F", "rx", "3:00"),
            ("Ma", "M", "rx", "2:30"),
            ("Fb", "F", "scaled", "2:00"),
            ("Mb", "M", "scaled", "2:10"),
        ]:
            participation_record(workout=fran, member=_member(name, gender), scaling_level=level, score_text=score)
        shy = _member("Shy", hide_scores=True)
        participation_record(workout=fran, member=shy, scaling_level="rx", score_text="1:45")  # the fastest

        assert _board(fran, gender="F") == [(1, "Fa", "3:00"), (2, "Fb", "2:00")]
        assert _board(fran, level="scaled") == [(1, "Fb", "2:00"), (2, "Mb", "2:10")]
        assert "Shy" not in [name for _, name, _ in _board(fran)]


def test_correcting_a_result_keeps_one_row_and_re_ranks(gyms):
    with affiliate_context(gyms.a):
        fran = Workout.objects.get(pk=gyms.fran_a.pk)
        ann, al = Member.objects.get(pk=gyms.ann.pk), Member.objects.get(pk=gyms.al.pk)
        participation_record(workout=fran, member=ann, scaling_level="rx", score_text="5:00")
        participation_record(workout=fran, member=al, scaling_level="rx", score_text="4:00")
        participation_record(workout=fran, member=ann, scaling_level="rx", score_text="3:30", recorded_by="coach_a")

        board = _board(fran)
        assert board == [(1, "Ann A", "3:30"), (2, "Al A", "4:00")]
        assert fran.participations.get(member=ann).recorded_by == "coach_a"


def test_personal_records_follow_results(gyms):
    with affiliate_context(gyms.a):
        squat = Workout.objects.get(pk=gyms.squat_a.pk)
        ann = Member.objects.get(pk=gyms.ann.pk)
        participation_record(workout=squat, member=ann, scaling_level="rx", score_text="100 kg")
        assert PersonalRecord.objects.get(member=ann).value == 100_000

        later = WorkoutFactory(name="Squat again", score_type="load", scaling_levels=["rx"])
        later.movements.create(exercise_id=gyms.squat.pk, position=1)
        participation_record(workout=later, member=ann, scaling_level="rx", score_text="95 kg")
        assert PersonalRecord.objects.get(member=ann).value == 100_000  # not a record

        participation_record(workout=later, member=ann, scaling_level="rx", score_text="110 kg")
        assert PersonalRecord.objects.get(member=ann).value == 110_000

        participation_record(workout=later, member=ann, scaling_level="rx", score_text="90 kg")  # corrected down
        assert PersonalRecord.objects.get(member=ann).value == 100_000


def test_overall_board_sums_placements_with_countback(gyms):
    with affiliate_context(gyms.a):
        day = datetime.date(2026, 3, 1)
        w1 = WorkoutFactory(name="W1", score_type="reps", scaling_levels=["rx"], scheduled_on=day)
        w2 = WorkoutFactory(
            name="W2", score_type="reps", scaling_levels=["rx"], scheduled_on=day + datetime.timedelta(days=1)
        )
        a, b, c = _member("Aa"), _member("Bb"), _member("Cc")
        # W1: A 1st, B 2nd, C 3rd.  W2: C 1st, B 2nd, A 3rd.  A=4, B=4, C=4: countback on first places,
        # A and C have one each, B none; A and C still equal on seconds (none) -> shared rank 1.
        for member, reps in ((a, 30), (b, 20), (c, 10)):
            participation_record(workout=w1, member=member, scaling_level="rx", score_text=str(reps))
        for member, reps in ((c, 30), (b, 20), (a, 10)):
            participation_record(workout=w2, member=member, scaling_level="rx", score_text=str(reps))

        workouts, rows = overall_leaderboard(start=day, end=day + datetime.timedelta(days=1))

    assert [w.name for w in workouts] == ["W1", "W2"]
    assert [(r.rank, str(r.member), r.total) for r in rows] == [(1, "Aa", 4), (1, "Cc", 4), (3, "Bb", 4)]


def test_rebuilding_personal_records_finds_results_recorded_around_the_service(gyms, capsys):
    with affiliate_context(gyms.a):
        ann, al = Member.objects.get(pk=gyms.ann.pk), Member.objects.get(pk=gyms.al.pk)
        squat = Workout.objects.get(pk=gyms.squat_a.pk)
        # Rows written straight to the table (a bulk import) leave the records behind.
        ParticipationFactory(workout=squat, member=ann, score_value=120_000)
        ParticipationFactory(workout=squat, member=al, score_value=140_000)
        assert not PersonalRecord.objects.exists()

    call_command("personal_records_rebuild", "--affiliate", gyms.a.slug)

    assert f"{gyms.a.slug}: 2 personal records" in capsys.readouterr().out
    with affiliate_context(gyms.a):
        assert dict(PersonalRecord.objects.values_list("member_id", "value")) == {ann.pk: 120_000, al.pk: 140_000}
    with affiliate_context(gyms.b):
        assert not PersonalRecord.objects.exists()
