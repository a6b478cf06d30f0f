"""The gym pages: who may see what (owner / admin / coach / outsider / anonymous / staff) and bad input."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from affiliates.routing.context import affiliate_context
from gym.accounts.models import GymLogin
from gym.members.models import Member
from gym.workouts.models import Benchmark, Exercise, Participation, Workout
from tests.conftest import client_for, host
from tests.factories import MemberFactory, gym_login

pytestmark = pytest.mark.django_db(transaction=True)

Role = GymLogin.Role

URLCONF = "fitbuddy.urls_gym"

#: Gym routes anyone may open (they lead to a login).
PUBLIC_ROUTES = {
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    # The whiteboard on the TV: its link's token is the key (tests/gym/test_whiteboard.py).
    "whiteboard:tv",
    "whiteboard:tv_board",
}
#: The least role that may use each gym route. A route missing here fails
#: test_every_gym_route_declares_who_may_use_it, so a new page cannot go untested.
LEAST_ROLE = {
    "dashboard": Role.COACH,
    "members:list": Role.COACH,
    "members:detail": Role.COACH,
    "members:create": Role.ADMIN,
    "members:edit": Role.ADMIN,
    "members:export": Role.ADMIN,
    "members:import": Role.ADMIN,
    "members:deactivate": Role.ADMIN,
    "workouts:exercises": Role.COACH,
    "workouts:exercise_create": Role.COACH,
    "workouts:exercise_edit": Role.COACH,
    "workouts:list": Role.COACH,
    "workouts:create": Role.COACH,
    "workouts:detail": Role.COACH,
    "workouts:edit": Role.COACH,
    "workouts:week": Role.COACH,
    "workouts:library": Role.COACH,
    "workouts:library_add": Role.COACH,
    "workouts:sheet": Role.COACH,
    "workouts:delete": Role.COACH,
    "workouts:result_delete": Role.COACH,
    "workouts:events": Role.ADMIN,
    "workouts:results_import": Role.COACH,
    "leaderboards:workout": Role.COACH,
    "leaderboards:overall": Role.COACH,
    "leaderboards:benchmarks": Role.COACH,
    "leaderboards:all_time": Role.COACH,
    "people:list": Role.ADMIN,
    "people:role": Role.ADMIN,
    "people:resend": Role.ADMIN,
    "people:remove": Role.ADMIN,
    # An athlete's own pages: for athletes only (a coach's login is no member).
    "athletes:home": Role.ATHLETE,
    "athletes:workout": Role.ATHLETE,
    "athletes:progress": Role.ATHLETE,
    "athletes:privacy": Role.ATHLETE,
    # Classes (gym/classes): the schedule and a class's page for coaches, its rules for owners and
    # admins, an athlete's bookings for athletes.
    "classes:schedule": Role.COACH,
    "classes:occurrence": Role.COACH,
    "classes:act": Role.COACH,
    "workouts:class_sheet": Role.COACH,
    "classes:create": Role.ADMIN,
    "classes:edit": Role.ADMIN,
    "classes:holidays": Role.ADMIN,
    "classes:rules": Role.ADMIN,
    "classes:mine": Role.ATHLETE,
    "classes:mine_act": Role.ATHLETE,
    # Publishing and the whiteboard's links.
    "workouts:publish": Role.COACH,
    "whiteboard:links": Role.COACH,
    # Programming that copies.
    "workouts:day": Role.COACH,
    "workouts:copy_day": Role.COACH,
    "workouts:copy_week": Role.COACH,
    "workouts:move_part": Role.COACH,
}
#: Routes that only accept POST (a GET is 405 once access is granted).
POST_ONLY = {
    "workouts:library_add",
    "workouts:delete",
    "workouts:result_delete",
    "people:role",
    "people:resend",
    "athletes:privacy",
    "classes:act",
    "classes:mine_act",
    "workouts:publish",
    "workouts:copy_day",
    "workouts:copy_week",
    "workouts:move_part",
}


def _named_routes(patterns, namespace: str | None = None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _named_routes(entry.url_patterns, entry.namespace or namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}:{entry.name}" if namespace else entry.name, entry


def gym_routes() -> dict[str, URLPattern]:
    """Every named route of a gym's site, found by walking its URL resolver."""
    return {name: route for name, route in _named_routes(get_resolver(URLCONF).url_patterns)}


def urls(gyms) -> dict[str, str]:
    """Every non-public gym route -> a URL for it on gym A, its arguments taken from gym A's data."""
    with affiliate_context(gyms.a):
        fran = Benchmark.objects.get(name="Fran")
        al_on_fran, _ = Participation.objects.get_or_create(
            workout=gyms.fran_a, member=gyms.al, defaults={"score_value": 300_000, "recorded_by": "coach_a"}
        )
    objects = {
        "member_id": gyms.ann.pk,
        "workout_id": gyms.fran_a.pk,
        "exercise_id": gyms.squat.pk,
        "benchmark_id": fran.pk,
        "login_id": gyms.coach_a.pk,
        "participation_id": al_on_fran.pk,
        # A Wednesday class, and a Wednesday with no workout (its class sheet says so on a page).
        "schedule_id": _wednesday_class(gyms).pk,
        "day": "2026-01-07",
    }
    result = {}
    for name, route in gym_routes().items():
        if name in PUBLIC_ROUTES:
            continue
        params = route.pattern.converters.keys()
        missing = [p for p in params if p not in objects]
        assert not missing, f"{name}: give the outsider tests an object for {missing}"
        result[name] = reverse(name, kwargs={p: objects[p] for p in params}, urlconf=URLCONF)
    return result


def _wednesday_class(gyms):
    from gym.classes.models import ClassSchedule  # noqa: PLC0415

    with affiliate_context(gyms.a):
        found, _ = ClassSchedule.objects.get_or_create(
            name="Noon",
            defaults={
                "weekday": 3,
                "starts_at": "12:00",
                "length_minutes": 60,
                "capacity": 12,
                "active_from": "2026-01-01",
            },
        )
    return found


def test_every_gym_route_declares_who_may_use_it():
    assert set(gym_routes()) - PUBLIC_ROUTES == set(LEAST_ROLE)


def test_every_page_sends_anonymous_visitors_to_log_in(gyms):
    client = client_for(gyms.a)
    for name, url in urls(gyms).items():
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, (name, method)
            assert response["Location"].startswith("/login/?next="), name


def another_gyms_session(gyms) -> Client:
    """A client on gym A's host holding the session gym B's owner got by logging in on gym B."""
    client = Client(HTTP_HOST=host(gyms.a))
    client.cookies["sessionid"] = client_for(gyms.b, gyms.owner_b).cookies["sessionid"].value
    return client


def test_every_page_refuses_a_login_of_another_affiliate(gyms):
    # Gym B's logins are in gym B's database: on gym A's host that session is nobody's (ended, to log in).
    client = another_gyms_session(gyms)
    for name, url in urls(gyms).items():
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302 and response["Location"].startswith("/login/"), (name, method)
            assert b"ann@a.test" not in response.content, name
        client = another_gyms_session(gyms)  # the session was ended: present it again
    with affiliate_context(gyms.a):
        assert Member.objects.get(pk=gyms.ann.pk).is_active  # the POSTs changed nothing
        assert (
            Workout.objects.filter(pk=gyms.fran_a.pk).exists() and Participation.objects.filter(member=gyms.al).exists()
        )


def test_fitbuddy_staff_have_no_access_to_members_results_by_default(gyms):
    client = client_for(gyms.a, gyms.staff)
    for name, url in urls(gyms).items():
        assert client.get(url).status_code == 403, name
        assert client.post(url).status_code == 403, name


def test_roles_see_what_they_may(gyms):
    owner, admin, coach = (client_for(gyms.a, u) for u in (gyms.owner_a, gyms.admin_a, gyms.coach_a))
    athlete = client_for(gyms.a, gym_login(gyms.a, "ann@a.test", Role.ATHLETE, member=gyms.ann))
    for name, url in urls(gyms).items():
        allowed = 405 if name in POST_ONLY else 200
        least = LEAST_ROLE[name]
        staff_side = allowed if least != Role.ATHLETE else 403
        assert owner.get(url).status_code == staff_side, name
        assert admin.get(url).status_code == staff_side, name
        assert coach.get(url).status_code == (allowed if least == Role.COACH else 403), name
        expected_for_athlete = allowed if least == Role.ATHLETE else 302 if name == "dashboard" else 403
        assert athlete.get(url).status_code == expected_for_athlete, name


def test_outsiders_cannot_write_either(gyms):
    response = another_gyms_session(gyms).post(
        reverse("workouts:detail", args=[gyms.fran_a.pk], urlconf=URLCONF),
        {"member": gyms.ann.pk, "scaling_level": "rx", "status": "finished", "score": "3:00"},
    )
    assert response.status_code == 302
    response = another_gyms_session(gyms).post(
        reverse("members:deactivate", args=[gyms.ann.pk], urlconf=URLCONF), {"active": "0"}
    )
    assert response.status_code == 302
    with affiliate_context(gyms.a):
        assert not Participation.objects.exists()
        assert Member.objects.get(pk=gyms.ann.pk).is_active


def test_a_coach_records_a_result_and_the_board_shows_it(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    url = reverse("workouts:detail", args=[gyms.fran_a.pk], urlconf=URLCONF)

    response = client.post(url, {"member": gyms.ann.pk, "scaling_level": "rx", "status": "finished", "score": "3:05"})

    assert response.status_code == 302
    board = client.get(reverse("leaderboards:workout", args=[gyms.fran_a.pk], urlconf=URLCONF)).content.decode()
    assert "Ann A" in board and "3:05" in board
    with affiliate_context(gyms.a):
        assert Participation.objects.get().recorded_by == "coach_a@gym.test"


@pytest.mark.parametrize(
    ("score", "message"),
    [
        ("12:65", "seconds must be below 60"),
        ("abc", "not a time"),
        ("11:00", "over the 10:00 time cap"),
        ("CAP+200", "only 90 reps"),
        ("", "Enter a score"),
    ],
)
def test_malformed_scores_get_a_clear_message_and_write_nothing(gyms, score, message):
    client = client_for(gyms.a, gyms.coach_a)
    url = reverse("workouts:detail", args=[gyms.fran_a.pk], urlconf=URLCONF)

    response = client.post(url, {"member": gyms.ann.pk, "scaling_level": "rx", "status": "finished", "score": score})

    assert response.status_code == 200
    assert message in response.content.decode()
    with affiliate_context(gyms.a):
        assert not Participation.objects.exists()


def test_a_level_the_workout_does_not_offer_is_refused(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    url = reverse("workouts:detail", args=[gyms.fran_a.pk], urlconf=URLCONF)
    response = client.post(
        url, {"member": gyms.ann.pk, "scaling_level": "rx_plus", "status": "finished", "score": "3:00"}
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()


def test_a_member_of_another_affiliate_named_in_a_form_is_refused(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    url = reverse("workouts:detail", args=[gyms.fran_a.pk], urlconf=URLCONF)
    with affiliate_context(gyms.b):
        bob_id = Member.objects.get(pk=gyms.bob.pk).pk
    with affiliate_context(gyms.a):
        foreign_id = max(Member.objects.values_list("pk", flat=True)) + 1000 + bob_id

    response = client.post(url, {"member": foreign_id, "scaling_level": "rx", "status": "finished", "score": "3:00"})

    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    with affiliate_context(gyms.a):
        assert not Participation.objects.exists()


def test_tampered_ids_in_urls_are_404(gyms):
    client = client_for(gyms.a, gyms.owner_a)
    with affiliate_context(gyms.b):
        secret = Workout.objects.get(pk=gyms.secret_b.pk)
    for url in (
        f"/workouts/{secret.pk + 1000}/",
        f"/members/{gyms.bob.pk + 1000}/edit/",
        f"/workouts/{gyms.fran_a.pk + 1000}/leaderboard/",
        f"/workouts/{gyms.fran_a.pk}/?edit=999999",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"B Secret WOD" not in response.content


def test_member_form_validates_and_creates(gyms):
    client = client_for(gyms.a, gyms.admin_a)
    url = reverse("members:create", urlconf=URLCONF)

    bad = client.post(url, {"first_name": " ", "email": "ANN@a.test", "gender": "F"})
    assert bad.status_code == 200
    assert "Enter a first name." in bad.content.decode() or "This field is required." in bad.content.decode()
    assert "Another member already uses this email address." in bad.content.decode()

    good = client.post(url, {"first_name": "Cleo", "last_name": "C", "email": "Cleo@A.test", "gender": "F"})
    assert good.status_code == 302
    with affiliate_context(gyms.a):
        assert Member.objects.get(email="cleo@a.test").first_name == "Cleo"


def test_member_search_paging_and_deactivate(gyms):
    with affiliate_context(gyms.a):
        Member.objects.bulk_create(
            [Member(first_name=f"Pat{i:02d}", last_name="Page", email=f"pat{i}@a.test") for i in range(30)]
        )
    client = client_for(gyms.a, gyms.owner_a)
    first = client.get("/members/?q=pat").content.decode()
    second = client.get("/members/?q=pat&page=2").content.decode()
    assert "Page 1 of 2" in first and "Pat00" in first and "Pat29" not in first and "Pat29" in second
    assert "Ann" not in first

    client.post(f"/members/{gyms.ann.pk}/active/", {"active": "0"})
    assert "ann@a.test" not in client.get("/members/").content.decode()
    assert "ann@a.test" in client.get("/members/?show=all").content.decode()


def test_csv_export_neutralises_formulas(gyms):
    with affiliate_context(gyms.a):
        MemberFactory(first_name='=HYPERLINK("http://evil")', last_name="+1-2", email="evil@a.test")
    response = client_for(gyms.a, gyms.owner_a).get("/members/export.csv")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())  # spreadsheet programs read it as UTF-8
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    evil = next(r for r in rows if r[2] == "evil@a.test")
    assert evil[0] == '\'=HYPERLINK("http://evil")' and evil[1] == "'+1-2"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_workout_create_with_movements_and_bad_time_cap(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    data = {
        "name": "Grace",
        "scheduled_on": "2026-02-02",
        "track": "main",
        "score_type": "time",
        "time_cap": "ten",
        "scaling_levels": ["rx", "scaled"],
        "tiebreak_scheme": "none",
        "reps_per_round": "30",
        "movements-TOTAL_FORMS": "1",
        "movements-INITIAL_FORMS": "0",
        "movements-MIN_NUM_FORMS": "0",
        "movements-MAX_NUM_FORMS": "20",
        "movements-0-exercise": gyms.squat.pk,
        "movements-0-prescription": "30",
    }
    bad = client.post("/workouts/new/", data)
    assert bad.status_code == 200 and "not a time" in bad.content.decode()

    good = client.post("/workouts/new/", {**data, "time_cap": "5:00"})
    assert good.status_code == 302
    with affiliate_context(gyms.a):
        grace = Workout.objects.get(name="Grace")
        assert grace.time_cap_seconds == 300 and grace.scaling_levels == ["rx", "scaled"]
        assert [m.exercise_id for m in grace.movements.all()] == [gyms.squat.pk]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reps_per_round", "0", "greater than or equal to 1"),
        ("reps_per_round", "-5", "greater than or equal to 1"),
        ("time_cap", "596523:14:08", "at most 24 hours"),  # 2,147,483,648 s
        ("time_cap", "99999999999999s", "far too large"),
    ],
)
def test_workout_numbers_out_of_range_are_refused_with_a_message(gyms, field, value, message):
    client = client_for(gyms.a, gyms.coach_a)
    url = reverse("workouts:edit", args=[gyms.fran_a.pk], urlconf=URLCONF)
    data = {
        "name": "Fran",
        "scheduled_on": "2026-01-05",
        "track": "main",
        "score_type": "time",
        "time_cap": "10:00",
        "scaling_levels": ["rx", "scaled"],
        "tiebreak_scheme": "none",
        "reps_per_round": "90",
        "movements-TOTAL_FORMS": "0",
        "movements-INITIAL_FORMS": "0",
        "movements-MIN_NUM_FORMS": "0",
        "movements-MAX_NUM_FORMS": "20",
    }

    response = client.post(url, {**data, field: value})

    assert response.status_code == 200 and message in response.content.decode()
    with affiliate_context(gyms.a):
        fran = Workout.objects.get(pk=gyms.fran_a.pk)
        assert (fran.reps_per_round, fran.time_cap_seconds) == (90, 600)


def test_bad_results_on_a_capped_workout_with_a_tiebreak_by_reps_are_refused(gyms):
    with affiliate_context(gyms.a):
        chipper = Workout.objects.create(
            name="Chipper",
            score_type="time",
            time_cap_seconds=1200,
            tiebreak_scheme=Workout.Tiebreak.REPS,
            scaling_levels=["rx"],
            scheduled_on="2026-01-07",
        )
    client = client_for(gyms.a, gyms.coach_a)
    url = reverse("workouts:detail", args=[chipper.pk], urlconf=URLCONF)
    result = {"member": gyms.ann.pk, "scaling_level": "rx", "status": "finished", "score": "15:00"}

    for extra, message in [
        ({"tiebreak": "-3"}, "is not a number of reps"),
        ({"tiebreak": "٣"}, "is not a number of reps"),
        ({"score": "CAP 1000000000 reps"}, "far too many"),
    ]:
        response = client.post(url, {**result, **extra})
        assert response.status_code == 200 and message in response.content.decode(), extra
    with affiliate_context(gyms.a):
        assert not Participation.objects.filter(workout=chipper).exists()
    assert client.post(url, {**result, "tiebreak": "45"}).status_code == 302


def test_bad_query_strings_get_a_4xx_not_a_500(gyms):
    client = client_for(gyms.a, gyms.owner_a)
    search = client.get("/members/?q=a%00b")
    assert search.status_code == 400 and "NUL" in search.content.decode()
    assert client.get("/members/", {"q": "\u200fann\x01"}).status_code == 200
    workout = reverse("workouts:detail", args=[gyms.fran_a.pk], urlconf=URLCONF)
    assert client.get(workout, {"edit": "abc"}).status_code == 404
    assert client.get(workout, {"edit": "9" * 30}).status_code == 404


def test_a_second_result_for_a_member_asks_before_replacing_the_first(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    url = reverse("workouts:detail", args=[gyms.fran_a.pk], urlconf=URLCONF)
    first = {"member": gyms.ann.pk, "scaling_level": "rx", "status": "finished", "score": "8:34"}
    assert client.post(url, first).status_code == 302

    second = {**first, "scaling_level": "scaled", "score": "9:00"}
    response = client.post(url, second)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Ann A already has a result on this workout: 8:34 (Rx), recorded by coach_a" in page
    assert 'type="checkbox" name="replace"' in page
    with affiliate_context(gyms.a):
        kept = Participation.objects.get(workout=gyms.fran_a, member=gyms.ann)
        assert (kept.scaling_level, kept.score_value) == ("rx", 514_000)

    assert client.post(url, {**second, "replace": "on"}).status_code == 302
    with affiliate_context(gyms.a):
        replaced = Participation.objects.get(workout=gyms.fran_a, member=gyms.ann)
        assert (replaced.scaling_level, replaced.score_value, replaced.recorded_by) == (
            "scaled",
            540_000,
            "coach_a@gym.test",
        )


def test_a_dnf_with_a_score_is_refused_with_a_message(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    url = reverse("workouts:detail", args=[gyms.fran_a.pk], urlconf=URLCONF)
    response = client.post(url, {"member": gyms.ann.pk, "scaling_level": "rx", "status": "dnf", "score": "12:34"})
    assert (
        response.status_code == 200 and "has no score: clear the score, or choose Finished" in response.content.decode()
    )
    with affiliate_context(gyms.a):
        assert not Participation.objects.exists()


def test_a_birth_date_in_the_future_is_refused(gyms):
    client = client_for(gyms.a, gyms.owner_a)
    data = {"first_name": "Zed", "last_name": "Z", "email": "zed@a.test", "gender": "M", "birth_date": "2099-01-01"}
    response = client.post(reverse("members:create", urlconf=URLCONF), data)
    assert response.status_code == 200 and "cannot be in the future" in response.content.decode()
    with affiliate_context(gyms.a):
        assert not Member.objects.filter(email="zed@a.test").exists()


def test_the_board_shows_tiebreaks_as_times_and_loads_typed_with_a_decimal_comma_rank_right(gyms):
    with affiliate_context(gyms.a):
        chipper = Workout.objects.create(
            name="Chipper", score_type="time", tiebreak_scheme=Workout.Tiebreak.TIME, scaling_levels=["rx"],
            scheduled_on="2026-01-08",
        )  # fmt: skip
    client = client_for(gyms.a, gyms.coach_a)
    url = reverse("workouts:detail", args=[chipper.pk], urlconf=URLCONF)
    client.post(
        url, {"member": gyms.ann.pk, "scaling_level": "rx", "status": "finished", "score": "15:00", "tiebreak": "7:11"}
    )
    board = client.get(reverse("leaderboards:workout", args=[chipper.pk], urlconf=URLCONF)).content.decode()
    assert "7:11" in board and "431000" not in board

    squat = reverse("workouts:detail", args=[gyms.squat_a.pk], urlconf=URLCONF)
    client.post(squat, {"member": gyms.ann.pk, "scaling_level": "rx", "status": "finished", "score": "102,5 kg"})
    client.post(squat, {"member": gyms.al.pk, "scaling_level": "rx", "status": "finished", "score": "110 kg"})
    with affiliate_context(gyms.a):
        loads = dict(
            Participation.objects.filter(workout=gyms.squat_a).values_list("member__first_name", "score_value")
        )
    assert loads == {"Ann": 102_500, "Al": 110_000}  # 102,5 kg is 102.5 kg, not 1025 kg: Al ranks first
    board = client.get(reverse("leaderboards:workout", args=[gyms.squat_a.pk], urlconf=URLCONF)).content.decode()
    table = board[board.index("<tbody>") :]
    assert table.index("Al A") < table.index("Ann A") and "102.5 kg" in table


def test_pages_show_words_not_codes(gyms):
    with affiliate_context(gyms.a):
        Workout.objects.filter(pk=gyms.fran_a.pk).update(scaling_levels=["rx_plus", "rx", "scaled"])
    owner = client_for(gyms.a, gyms.owner_a)
    page = owner.get(reverse("workouts:detail", args=[gyms.fran_a.pk], urlconf=URLCONF)).content.decode()
    assert ">Rx+</span>" in page and ">rx_plus<" not in page
    one = owner.get("/members/?q=ann").content.decode()
    assert "· 1 member</span>" in one
    export = owner.get("/members/export.csv").content.decode("utf-8-sig")
    ann = next(row for row in csv.reader(io.StringIO(export)) if row[2] == "ann@a.test")
    assert ann[3] == "Female"


def test_an_exercise_name_with_extra_spaces_is_the_same_exercise(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    url = reverse("workouts:exercise_create", urlconf=URLCONF)
    response = client.post(
        url, {"name": "Back  Squat ", "category": "weightlifting", "unit": "load", "description": ""}
    )
    assert response.status_code == 200 and "already has an exercise with this name" in response.content.decode()
    client.post(url, {"name": " Zercher   Lunge", "category": "weightlifting", "unit": "load", "description": ""})
    with affiliate_context(gyms.a):
        assert Exercise.objects.filter(name="Zercher Lunge").exists()


def test_member_search_finds_full_names_and_ignores_accents(gyms):
    with affiliate_context(gyms.a):
        MemberFactory(first_name="Ben", last_name="Brooks", email="ben@a.test")
        MemberFactory(first_name="Sigríður", last_name="Ólafsdóttir", email="sigga@a.test")
    client = client_for(gyms.a, gyms.coach_a)

    def found(query: str) -> bool:
        return "1 member</span>" in client.get("/members/", {"q": query}).content.decode()

    assert found("Ben Brooks") and found("ben  brooks")
    assert found("olafs") and found("ÓLAFS") and found("sigridur olafsdottir")
    assert not found("Ben Smith")


def test_a_coach_is_told_which_role_they_have_on_a_403_and_a_login_without_a_role_sees_no_navigation(gyms):
    coach = client_for(gyms.a, gyms.coach_a)
    page = coach.get(reverse("members:create", urlconf=URLCONF)).content.decode()
    assert "Your role at Gym A is coach" in page and "for the gym's owner and admins" in page
    assert "has no role" not in page
    outsider = another_gyms_session(gyms).get("/", follow=True).content.decode()
    assert "Log in to Gym A" in outsider and 'aria-label="Gym"' not in outsider
    assert 'href="/members/"' not in outsider
