"""Numbers are never silently wrong (issue 18, item 4): each trap a coach fell into, kept shut."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from affiliates.routing.context import affiliate_context
from gym.workouts.models import Benchmark, Participation, PersonalRecord, ScoreType, Workout
from tests.conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)

URLCONF = "fitbuddy.urls_gym"


def detail_url(workout) -> str:
    return reverse("workouts:detail", args=[workout.pk], urlconf=URLCONF)


def sheet_url(workout) -> str:
    return reverse("workouts:sheet", args=[workout.pk], urlconf=URLCONF)


def sheet_row(member, level="rx", score="", status="finished", **extra) -> dict[str, str]:
    data = {f"m{member.pk}-scaling_level": level, f"m{member.pk}-score": score, f"m{member.pk}-status": status}
    data.update({f"m{member.pk}-{name}": value for name, value in extra.items()})
    return data


def sheet_post(*rows: dict, action: str = "save", **extra) -> dict[str, str]:
    data = {"action": action, "default_level": "rx", **extra}
    for one in rows:
        data.update(one)
    return data


def workout_form(**changes) -> dict:
    data = {
        "name": "Chipper",
        "scheduled_on": "2026-02-02",
        "track": "main",
        "score_type": "time",
        "time_cap": "",
        "scaling_levels": ["rx", "scaled"],
        "tiebreak_scheme": "none",
        "reps_per_round": "",
        "movements-TOTAL_FORMS": "0",
        "movements-INITIAL_FORMS": "0",
        "movements-MIN_NUM_FORMS": "0",
        "movements-MAX_NUM_FORMS": "20",
    }
    return {**data, **changes}


def cindy(gyms) -> Workout:
    with affiliate_context(gyms.a):
        return Workout.objects.create(
            name="Cindy",
            score_type=ScoreType.ROUNDS_REPS,
            time_cap_seconds=1200,
            reps_per_round=30,
            scaling_levels=["rx", "scaled"],
            scheduled_on=datetime.date(2026, 1, 9),
        )


# --- A time cap typed 20 is twenty minutes -------------------------------------------------------------


@pytest.mark.parametrize(("typed", "seconds"), [("20", 1200), ("20 min", 1200), ("7:30", 450), ("1:00:00", 3600)])
def test_a_time_cap_is_read_in_minutes_unless_written_m_ss(gyms, typed, seconds):
    client = client_for(gyms.a, gyms.coach_a)
    form = client.get("/workouts/new/").content.decode()
    assert "minutes" in form and "7:30" in form  # the help text says how a cap is read

    response = client.post("/workouts/new/", workout_form(name=f"Capped {typed}", time_cap=typed))

    assert response.status_code == 302
    with affiliate_context(gyms.a):
        assert Workout.objects.get(name=f"Capped {typed}").time_cap_seconds == seconds


# --- 12.34 is not a time ------------------------------------------------------------------------------


def test_a_time_typed_with_a_decimal_point_is_refused_with_a_question(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    result = {"member": gyms.ann.pk, "scaling_level": "rx", "status": "finished", "score": "12.34"}

    response = client.post(detail_url(gyms.fran_a), result)

    assert response.status_code == 200
    assert "Did you mean 12:34? Write times as m:ss (or h:mm:ss)." in response.content.decode()
    with affiliate_context(gyms.a):
        assert not Participation.objects.exists()
    sheet = client.post(sheet_url(gyms.fran_a), sheet_post(sheet_row(gyms.ann, score="12.34")))
    assert sheet.status_code == 200 and "Did you mean 12:34?" in sheet.content.decode()
    # Tenths and hundredths after a colon are still times.
    assert client.post(detail_url(gyms.fran_a), {**result, "score": "8:12.34"}).status_code == 302
    with affiliate_context(gyms.a):
        assert Participation.objects.get().score_value == 492_340


# --- A result far outside what the workout allows is confirmed first ----------------------------------


def test_a_12_second_fran_is_saved_only_once_confirmed(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    result = {"member": gyms.ann.pk, "scaling_level": "rx", "status": "finished", "score": "0:12"}

    response = client.post(detail_url(gyms.fran_a), result)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Please check" in page and "faster than 1 second a rep" in page
    assert 'type="checkbox" name="confirm"' in page
    with affiliate_context(gyms.a):
        assert not Participation.objects.exists()

    assert client.post(detail_url(gyms.fran_a), {**result, "confirm": "on"}).status_code == 302
    with affiliate_context(gyms.a):
        assert Participation.objects.get().score_value == 12_000


def test_a_time_under_half_the_members_best_asks_first(gyms):
    with affiliate_context(gyms.a):
        earlier = Workout.objects.create(
            name="Fran", score_type="time", scaling_levels=["rx"], scheduled_on=datetime.date(2025, 6, 1)
        )
        Participation.objects.create(workout=earlier, member=gyms.ann, score_value=400_000)  # 6:40
    client = client_for(gyms.a, gyms.coach_a)
    result = {"member": gyms.ann.pk, "scaling_level": "rx", "status": "finished", "score": "3:10"}

    response = client.post(detail_url(gyms.fran_a), result)

    assert response.status_code == 200 and "less than half of Ann A’s best" in response.content.decode()
    with affiliate_context(gyms.a):
        assert not Participation.objects.filter(workout=gyms.fran_a).exists()
    assert client.post(detail_url(gyms.fran_a), {**result, "score": "3:30"}).status_code == 302  # plausible


def test_a_load_far_above_the_members_record_asks_first(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    result = {"member": gyms.ann.pk, "scaling_level": "rx", "status": "finished", "score": "100 kg"}
    assert client.post(detail_url(gyms.squat_a), result).status_code == 302
    with affiliate_context(gyms.a):
        squat_again = Workout.objects.create(name="Squat day", score_type="load", scaling_levels=["rx"])
        squat_again.movements.create(exercise=gyms.squat, position=1)

    response = client.post(detail_url(squat_again), {**result, "score": "1000 kg"})

    assert response.status_code == 200 and "1.5 × Ann A’s record" in response.content.decode()
    with affiliate_context(gyms.a):
        assert not Participation.objects.filter(workout=squat_again).exists()
        assert PersonalRecord.objects.get(member=gyms.ann).value == 100_000
    assert client.post(detail_url(squat_again), {**result, "score": "120 kg"}).status_code == 302


def test_the_sheet_flags_an_implausible_row_keeps_every_row_and_saves_once_confirmed(gyms):
    workout = cindy(gyms)
    client = client_for(gyms.a, gyms.coach_a)
    rows = (sheet_row(gyms.ann, score="117+0"), sheet_row(gyms.al, score="5+12"))

    response = client.post(sheet_url(workout), sheet_post(*rows))

    page = response.content.decode()
    assert response.status_code == 200 and "1 row needs confirming" in page and "nothing was saved" in page
    assert "more than the 20:00 cap allows" in page
    assert 'value="117+0"' in page and 'value="5+12"' in page  # every typed row is kept
    assert f'name="m{gyms.ann.pk}-confirm"' in page and f'name="m{gyms.al.pk}-confirm"' not in page
    with affiliate_context(gyms.a):
        assert not Participation.objects.filter(workout=workout).exists()

    confirmed = client.post(sheet_url(workout), sheet_post(sheet_row(gyms.ann, score="117+0", confirm="on"), rows[1]))
    assert confirmed.status_code == 302
    with affiliate_context(gyms.a):
        assert Participation.objects.filter(workout=workout).count() == 2


# --- An AMRAP shows rounds + reps ---------------------------------------------------------------------


def test_a_bare_count_on_an_amrap_is_reps_and_shows_as_rounds_plus_reps(gyms):
    workout = cindy(gyms)
    client = client_for(gyms.a, gyms.coach_a)
    result = {"member": gyms.ann.pk, "scaling_level": "rx", "status": "finished", "score": "117"}

    assert client.post(detail_url(workout), result).status_code == 302

    with affiliate_context(gyms.a):
        assert Participation.objects.get(workout=workout).score_value == 3 * 100_000 + 27
    board = client.get(reverse("leaderboards:workout", args=[workout.pk], urlconf=URLCONF)).content.decode()
    assert "3 + 27" in board
    assert 'value="3 + 27"' in client.get(sheet_url(workout)).content.decode()
    member_page = client.get(reverse("members:detail", args=[gyms.ann.pk], urlconf=URLCONF)).content.decode()
    assert "3 + 27" in member_page


# --- The level for new rows belongs to one workout ----------------------------------------------------


def test_the_level_for_new_rows_never_crosses_to_another_workout(gyms):
    with affiliate_context(gyms.a):
        next_day = Workout.objects.create(
            name="Next day", score_type="time", scaling_levels=["rx", "scaled"], scheduled_on=datetime.date(2026, 1, 6)
        )
    client = client_for(gyms.a, gyms.coach_a)
    client.post(
        sheet_url(gyms.fran_a), sheet_post(sheet_row(gyms.ann, level="scaled", score="5:00"), default_level="scaled")
    )

    def selected(page: str, name: str) -> str:
        select = page[page.index(f'name="{name}"') :]
        select = select[: select.index("</select>")]
        return select[select.index(" selected") - 20 : select.index(" selected")]

    fran_sheet = client.get(sheet_url(gyms.fran_a)).content.decode()
    assert 'value="scaled"' in selected(fran_sheet, f"m{gyms.al.pk}-scaling_level")
    other_sheet = client.get(sheet_url(next_day)).content.decode()
    assert 'value="rx"' in selected(other_sheet, f"m{gyms.al.pk}-scaling_level")
    assert 'value="rx"' in selected(other_sheet, "default_level")
    other_form = client.get(detail_url(next_day)).content.decode()
    assert 'value="rx"' in selected(other_form, "scaling_level")


# --- CAP+N on every capped workout that knows its total reps ------------------------------------------


def test_every_capped_library_benchmark_for_time_knows_its_total_reps_and_takes_cap_plus_n(gyms):
    with affiliate_context(gyms.a):
        unknown = list(
            Benchmark.objects.filter(score_type="time", time_cap_seconds__isnull=False, reps_per_round__isnull=True)
        )
        assert unknown == []
        helen = Benchmark.objects.get(name="Helen")
    client = client_for(gyms.a, gyms.coach_a)
    added = client.post(
        reverse("workouts:library_add", args=[helen.pk], urlconf=URLCONF),
        {"scheduled_on": "2026-03-02", "track": "main"},
    )
    assert added.status_code == 302
    with affiliate_context(gyms.a):
        workout = Workout.objects.get(benchmark=helen)
        assert workout.reps_per_round == helen.reps_per_round

    response = client.post(
        detail_url(workout), {"member": gyms.ann.pk, "scaling_level": "rx", "status": "finished", "score": "CAP+15"}
    )

    assert response.status_code == 302
    with affiliate_context(gyms.a):
        capped = Participation.objects.get(workout=workout)
        assert (capped.status, capped.reps_completed) == ("capped", helen.reps_per_round - 15)


def test_cap_plus_n_is_not_suggested_where_the_total_reps_are_unknown(gyms):
    with affiliate_context(gyms.a):
        chipper = Workout.objects.create(
            name="Chipper", score_type="time", time_cap_seconds=1200, scaling_levels=["rx"]
        )
    client = client_for(gyms.a, gyms.coach_a)
    for url in (detail_url(chipper), sheet_url(chipper)):
        page = client.get(url).content.decode()
        assert "CAP+" not in page and "CAP 85 reps" in page, url
    assert "CAP+15" in client.get(sheet_url(gyms.fran_a)).content.decode()  # Fran knows its 90 reps


# --- Fixing the workout from the sheet keeps the rows -------------------------------------------------


def test_fixing_the_time_cap_from_the_sheet_keeps_every_typed_row(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    rows = (sheet_row(gyms.ann, score="11:30"), sheet_row(gyms.al, level="scaled", score="12:05"))
    over = client.post(sheet_url(gyms.fran_a), sheet_post(*rows))
    assert "over the 10:00 time cap" in over.content.decode()

    fixed = client.post(sheet_url(gyms.fran_a), sheet_post(*rows, action="cap", time_cap="15"))

    page = fixed.content.decode()
    assert fixed.status_code == 200
    assert 'value="11:30"' in page and 'value="12:05"' in page
    al_level = page[page.index(f'name="m{gyms.al.pk}-scaling_level"') :]
    assert al_level.index('value="scaled" selected') < al_level.index("</select>")
    with affiliate_context(gyms.a):
        assert Workout.objects.get(pk=gyms.fran_a.pk).time_cap_seconds == 900  # "15" is fifteen minutes
        assert not Participation.objects.exists()  # fixing the workout saves no row
    assert client.post(sheet_url(gyms.fran_a), sheet_post(*rows)).status_code == 302
    with affiliate_context(gyms.a):
        assert Participation.objects.count() == 2

    bad = client.post(sheet_url(gyms.fran_a), sheet_post(*rows, action="cap", time_cap="soon"))
    assert bad.status_code == 200 and 'value="11:30"' in bad.content.decode()
    with affiliate_context(gyms.a):
        assert Workout.objects.get(pk=gyms.fran_a.pk).time_cap_seconds == 900
