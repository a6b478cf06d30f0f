"""Past results imported from CSV, with files shaped like a SugarWOD athlete's export and a Wodify
results report: athletes matched by e-mail or exact name, workouts by date and name (or created,
library benchmarks as themselves), scores read as the results sheet reads them, re-imports converging."""

from __future__ import annotations

import datetime
import html
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from affiliates.routing.context import affiliate_context
from gym.workouts.models import Participation, PersonalRecord, ScalingLevel, ScoreType, Workout
from tests.conftest import client_for
from tests.factories import MemberFactory
from tests.gym.test_member_import import form_of, text  # the import pages' mapping step, read alike

pytestmark = pytest.mark.django_db(transaction=True)

URLCONF = "fitbuddy.urls_gym"
IMPORT = reverse("workouts:results_import", urlconf=URLCONF)

#: A SugarWOD athlete's export (its header and lines as its users show them): one athlete, US dates,
#: loads in pounds without a unit, times m:ss, AMRAPs rounds+reps, score_type empty when timed, RX/SCALED.
SUGARWOD = (Path(__file__).parent / "files" / "sugarwod_workouts.csv").read_text()

#: A Wodify performance results report for the whole gym: athletes by name, the workout's part as
#: its "Component", the result as typed, Is Rx as True/False, dates m/d/yyyy.
WODIFY = """Athlete Name,Date,Component,Result,Is Rx,Comment
Al A,1/6/2026,Squat 1RM,100 kg,True,
Ann A,1/7/2026,Row 2k,7:45.2,TRUE,
Al A,1/7/2026,Row 2k,7:30,true,
Ann A,1/8/2026,"Deadlift, 5RM",225 lb,False,
Sam Smith,1/8/2026,"Deadlift, 5RM",100 kg,True,
Nobody Here,1/8/2026,"Deadlift, 5RM",90 kg,True,
Al A,1/9/2026,Chipper,"=HYPERLINK(""http://x"")",True,
"""


def upload(client, data: str):
    return client.post(IMPORT, {"file": SimpleUploadedFile("results.csv", data.encode(), content_type="text/csv")})


def post(client, page: str, **changes):
    return client.post(IMPORT, {**form_of(page), "action": "import", **changes})


def read(client, data: str) -> str:
    """Upload a file whose dates do not decide the order (1/6/2026), then preview it month first."""
    first = upload(client, data).content.decode()
    assert 'id="order-needed"' in first
    return text(client.post(IMPORT, {**form_of(first), "action": "preview", "date_order": "mdy"}))


def results(gym) -> dict[tuple[str, str, datetime.date], tuple]:
    with affiliate_context(gym):
        return {
            (p.member.email, p.workout.name, p.workout.scheduled_on): (p.scaling_level, p.score_value, p.status)
            for p in Participation.objects.select_related("member", "workout")
        }


def test_a_sugarwod_export_of_one_athlete_imports(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    page = upload(client, SUGARWOD).content.decode()
    guessed = form_of(page)
    assert [guessed[f"column-{i}"] for i in range(11)] == [
        "date",
        "workout",
        "",
        "",
        "score",
        "score_type",
        "",
        "",
        "notes",
        "level",
        "",
    ]
    assert "Choose the column that holds the athlete" in text_of(page)
    assert guessed["date_order"] == "mdy"  # 12/14/2025 can only be month first

    preview = text(client.post(IMPORT, {**guessed, "action": "preview", "athlete": gyms.ann.pk, "pounds": "1"}))
    assert "Ready: 5 to add, 0 to update, 0 unchanged; 4 past workouts to create" in preview
    response = post(client, preview, athlete=gyms.ann.pk, pounds="1")
    assert response.status_code == 302
    done = text(client.get(response["Location"]))
    assert "Imported results: 5 added, 0 updated, 0 unchanged; 4 past workouts created." in done

    got = results(gyms.a)
    assert got[("ann@a.test", "Fran", datetime.date(2026, 1, 5))] == ("rx", 378_000, "finished")  # the existing Fran
    assert got[("ann@a.test", "Back Squat 1x1", datetime.date(2025, 12, 14))][1] == 151_953  # 335 lb in grams
    assert got[("ann@a.test", "Cindy", datetime.date(2025, 4, 7))] == ("scaled", 16 * 100_000 + 1, "finished")
    assert got[("ann@a.test", "Handstand Push-Ups: 2 min max reps", datetime.date(2025, 8, 29))][1] == 16
    assert got[("ann@a.test", "Murph", datetime.date(2025, 5, 30))] == ("scaled", 2_762_000, "finished")
    with affiliate_context(gyms.a):
        cindy = Workout.objects.get(name="Cindy")
        assert (cindy.benchmark.name, cindy.reps_per_round, cindy.movements.count()) == ("Cindy", 30, 3)
        assert Workout.objects.get(name="Back Squat 1x1").score_type == ScoreType.LOAD
        fran = Participation.objects.get(workout=gyms.fran_a, member=gyms.ann)
        assert (fran.notes, fran.recorded_by) == ("felt strong", gyms.coach_a.email)


def text_of(page: str) -> str:
    return html.unescape(page)


def test_a_wodify_report_matches_names_imports_the_good_rows_and_converges(gyms):
    with affiliate_context(gyms.a):
        MemberFactory(first_name="Sam", last_name="Smith", email="sam1@a.test")
        MemberFactory(first_name="Sam", last_name="Smith", email="sam2@a.test")
    client = client_for(gyms.a, gyms.owner_a)
    page = read(client, WODIFY)
    assert "Ready: 4 to add, 0 to update, 0 unchanged; 3 refused; 2 past workouts to create" in page
    for line, column, value, why in (
        (6, "Athlete Name", "Sam Smith", "is the name of 2 members: add an e-mail column"),
        (7, "Athlete Name", "Nobody Here", "is no member's name"),
        (8, "Result", '=HYPERLINK("http://x")', "is a spreadsheet formula"),
    ):
        row = f'<td class="num">{line}</td><td>{column}</td><td><code>{value}</code></td><td>{why}'
        assert row in page, row
    before = results(gyms.a)
    assert "Nothing was imported: some rows are refused" in text(post(client, page))
    assert results(gyms.a) == before

    response = post(client, page, partial="1")
    assert response.status_code == 302
    assert "3 refused rows left out (line 6, 7, 8)" in text(client.get(response["Location"]))
    got = results(gyms.a)
    assert got[("al@a.test", "Squat 1RM", datetime.date(2026, 1, 6))] == ("rx", 100_000, "finished")
    assert got[("ann@a.test", "Row 2k", datetime.date(2026, 1, 7))] == ("rx", 465_200, "finished")
    assert got[("ann@a.test", "Deadlift, 5RM", datetime.date(2026, 1, 8))][:2] == ("scaled", 102_058)
    with affiliate_context(gyms.a):
        assert PersonalRecord.objects.get(member=gyms.al, exercise=gyms.squat).value == 100_000  # records follow
        assert Workout.objects.get(name="Row 2k").score_type == ScoreType.TIME  # read from its scores
        count = Participation.objects.count()

    again = read(client, WODIFY)
    assert "Ready: 0 to add, 0 to update, 4 unchanged; 3 refused; 0 past workouts to create" in again
    changed = WODIFY.replace("Al A,1/7/2026,Row 2k,7:30", "Al A,1/7/2026,Row 2k,7:20")
    page = read(client, changed)
    assert "Ready: 0 to add, 1 to update, 3 unchanged" in page
    assert post(client, page, partial="1").status_code == 302
    with affiliate_context(gyms.a):
        assert Participation.objects.count() == count  # updated, never doubled
    assert results(gyms.a)[("al@a.test", "Row 2k", datetime.date(2026, 1, 7))][1] == 440_000


def test_e_mails_levels_and_refused_scores(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    data = (
        "Email,Workout,Day,Score,Level\n"
        "ANN@a.test,Fran,2026-01-05,12.34,Rx\n"  # a time written with a dot: asked, as on the sheet
        "al@a.test,Fran,2026-01-05,4:10,Rx+\n"  # Fran here offers Rx and Scaled only
        "al@a.test,Fran,2099-01-05,4:10,Rx\n"
        "al@a.test,Fran,2026-01-05,4:10,Elite\n"
        "ghost@a.test,Fran,2026-01-05,4:10,Rx\n"
    )
    page = text(upload(client, data))
    for line, column, value, why in (
        (2, "Score", "12.34", "'12.34': Did you mean 12:34?"),
        (3, "Level", "Rx+", "This workout offers Rx, Scaled only."),
        (4, "Day", "2099-01-05", "is in the future"),
        (5, "Level", "Elite", "is not Rx, Rx+, Scaled or Foundations"),
        (6, "Email", "ghost@a.test", "is no member's e-mail"),
    ):
        row = f'<td class="num">{line}</td><td>{column}</td><td><code>{value}</code></td><td>{why}'
        assert row in page, row
    assert results(gyms.a) == {}


def test_new_workouts_take_the_score_type_chosen_when_their_scores_do_not_say(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    data = "Date,Workout,Email,Score\n2026-01-10,Max Cal Bike,ann@a.test,42\n2026-01-10,Max Cal Bike,al@a.test,38 cal\n"
    page = upload(client, data).content.decode()
    assert "Ready: 2 to add" in page  # bare numbers and calories: calories
    data = "Date,Workout,Email,Score\n2026-01-11,Odd,ann@a.test,42\n2026-01-11,Odd,al@a.test,4:10\n"
    page = text(upload(client, data))
    assert "which do not show one score type: choose it above" in page
    response = post(client, page, new_type=ScoreType.REPS, partial="1")
    assert response.status_code == 302  # Al's 4:10 is no count of reps: left out
    got = results(gyms.a)
    assert got[("ann@a.test", "Odd", datetime.date(2026, 1, 11))][1] == 42
    assert ("al@a.test", "Odd", datetime.date(2026, 1, 11)) not in got
    assert ScalingLevel.RX in got[("ann@a.test", "Odd", datetime.date(2026, 1, 11))]


def test_athletes_may_not_import_results(gyms):
    from tests.factories import gym_login

    athlete = gym_login(gyms.a, "ann@a.test", "athlete", member=gyms.ann)
    client = client_for(gyms.a, athlete)
    assert upload(client, SUGARWOD).status_code in (302, 403)
    assert results(gyms.a) == {}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"Date,Workout,Email,Score\n2026-01-05,Fran,ann@a.test,3:4\xe9\n", "save it as “CSV UTF-8”"),
        (b"PK\x03\x04\x14\x00\x06\x00", "an Excel workbook (.xlsx), not a CSV file"),
        (b"Date,Workout,Email,Score\n" + b"2026-01-05,Fran,ann@a.test,3:45\n" * 20_001, "import at most 20000"),
        (b"," * (11 * 1024 * 1024), "larger than 1 MB"),
    ],
)
def test_files_that_cannot_be_read_import_no_result(gyms, data, message):
    client = client_for(gyms.a, gyms.coach_a)
    page = text(client.post(IMPORT, {"file": SimpleUploadedFile("r.csv", data, content_type="text/csv")}))
    assert message in page and "Nothing was imported" in page
    assert results(gyms.a) == {}


def test_excel_unicode_text_of_results_imports(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    data = "E-mail\tWOD\tDate\tScore\tRx/Scaled\nann@a.test\tFran\t2026-01-05\t3:45\tScaled\n".encode("utf-16")
    page = client.post(IMPORT, {"file": SimpleUploadedFile("r.txt", data)}).content.decode()
    assert post(client, page).status_code == 302
    assert results(gyms.a) == {("ann@a.test", "Fran", datetime.date(2026, 1, 5)): ("scaled", 225_000, "finished")}
