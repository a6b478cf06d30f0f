"""The whiteboard on the TV: links a coach makes and revokes, a token bound to its gym, the page's content
(published workouts by track, Rx and Scaled ranked apart), and the token kept out of logs."""

from __future__ import annotations

import datetime
import logging
import re

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from affiliates.routing.connections import alias_name
from affiliates.routing.context import affiliate_context
from fitbuddy.error_reports import scrub
from gym.leaderboards.models import WhiteboardLink
from gym.leaderboards.whiteboard import ClassFilter, whiteboard_context
from gym.leaderboards.whiteboard_links import link_check, link_create, token_hash
from gym.workouts.models import ScalingLevel, ScoreType, Workout
from gym.workouts.services import participation_record
from tests.conftest import client_for, host
from tests.factories import ExerciseFactory, MemberFactory, WorkoutExerciseFactory, WorkoutFactory

pytestmark = pytest.mark.django_db(transaction=True)

LINK_RE = re.compile(r'value="(https?://[^"]+/tv/([A-Za-z0-9_-]{43})/)"')


@pytest.fixture
def today(gyms):
    """Gym A's day: a Rx/Scaled for-time workout with results, a strength piece on another track, a draft
    and one that publishes tonight; gym B has a workout of its own today."""
    ns = gyms
    now = timezone.now()
    with affiliate_context(gyms.a):
        ns.grace = WorkoutFactory(
            name="Grace",
            score_type=ScoreType.TIME,
            time_cap_seconds=600,
            scaling_levels=[ScalingLevel.RX, ScalingLevel.SCALED],
            scheduled_on=timezone.localdate(),
            track="main",
        )
        WorkoutExerciseFactory(
            workout=ns.grace, exercise=ExerciseFactory(name="Clean and Jerk"), prescription="30 reps"
        )
        ns.strength = WorkoutFactory(
            name="Deadlift 5x5", score_type=ScoreType.NONE, scheduled_on=timezone.localdate(), track="strength"
        )
        ns.draft = WorkoutFactory(name="Draft Secret", scheduled_on=timezone.localdate(), draft=True)
        ns.later = WorkoutFactory(
            name="Tonight Secret", scheduled_on=timezone.localdate(), published_at=now + datetime.timedelta(hours=3)
        )
        ns.cat = MemberFactory(first_name="Cat", last_name="Carter", email="cat@a.test")
        participation_record(workout=ns.grace, member=gyms.ann, scaling_level="rx", score_text="3:10")
        participation_record(workout=ns.grace, member=gyms.al, scaling_level="rx", score_text="2:55")
        participation_record(workout=ns.grace, member=ns.cat, scaling_level="scaled", score_text="4:40")
    with affiliate_context(gyms.b):
        WorkoutFactory(name="B Only Today", scheduled_on=timezone.localdate())
    return ns


def make_link(gyms, label: str = "Main floor TV") -> tuple[str, str]:
    """A coach makes a link on the links page: (its address, its token)."""
    page = client_for(gyms.a, gyms.coach_a).post("/whiteboard/links/", {"action": "create", "label": label})
    assert page.status_code == 201 and page["Cache-Control"] == "no-store, private"
    url, token = LINK_RE.search(page.content.decode()).groups()
    return url, token


def test_a_coach_makes_a_link_and_the_tv_opens_it_without_a_login(today):
    url, token = make_link(today)
    assert url.startswith(f"http://{host(today.a)}/tv/")
    with affiliate_context(today.a):
        link = WhiteboardLink.objects.get()
    # Only the hash is kept, bound to the gym; the token itself is nowhere in the table.
    assert (
        link.token_hash
        == token_hash(affiliate_id=today.a.pk, token=token)
        != token_hash(affiliate_id=today.b.pk, token=token)
    )
    assert token not in repr(WhiteboardLink.objects.using(alias_name(today.a)).values_list())
    assert (link.label, link.created_by, link.last_seen_at) == ("Main floor TV", "coach_a@gym.test", None)

    tv = client_for(today.a).get(f"/tv/{token}/")  # anonymous
    assert tv.status_code == 200
    assert tv["Referrer-Policy"] == "no-referrer" and "no-store" in tv["Cache-Control"]
    page = tv.content.decode()
    assert "Grace" in page and "Clean and Jerk 30 reps" in page and "cap 10:00" in page
    assert "Deadlift 5x5" in page and "strength" in page  # every track
    assert "Draft Secret" not in page and "Tonight Secret" not in page  # never an unpublished workout
    assert "B Only Today" not in page
    assert 'http-equiv="refresh"' in page  # the no-JavaScript fallback
    with affiliate_context(today.a):
        assert WhiteboardLink.objects.get().last_seen_at is not None


def test_rx_and_scaled_are_ranked_apart_and_names_are_short(today):
    with affiliate_context(today.a):
        board = whiteboard_context()
    (grace,) = board.scored
    rx, scaled = grace.boards
    assert [(line.rank, line.name, line.score) for line in rx.lines] == [(1, "Al A.", "2:55"), (2, "Ann A.", "3:10")]
    assert (scaled.label, [(line.rank, line.name) for line in scaled.lines]) == ("Scaled", [(1, "Cat C.")])
    assert [track for track, _ in board.tracks] == ["main", "strength"]


def test_the_class_under_way_narrows_the_board_to_its_roster(today):
    with affiliate_context(today.a):
        board = whiteboard_context(class_filter=ClassFilter("6:00 am class", member_ids=[today.ann.pk], track="main"))
    assert board.heading == "6:00 am class"
    assert [track for track, _ in board.tracks] == ["main"]
    (grace,) = board.scored
    assert [line.name for b in grace.boards for line in b.lines] == ["Ann A."]


def test_the_board_reads_in_a_fixed_number_of_queries(today):
    with affiliate_context(today.a):
        connection = connections[alias_name(today.a)]
        with CaptureQueriesContext(connection) as few:
            whiteboard_context()
        for n in range(12):
            member = MemberFactory(first_name=f"M{n}", email=f"m{n}@a.test")
            participation_record(workout=today.grace, member=member, scaling_level="scaled", score_text=f"5:{n:02d}")
        with CaptureQueriesContext(connection) as many:
            board = whiteboard_context()
    assert len(many) == len(few) == 3
    assert len(board.scored[0].boards[1].lines) == 13


def test_a_revoked_or_unknown_link_shows_no_data(today):
    url, token = make_link(today)
    anonymous = client_for(today.a)
    assert anonymous.get(f"/tv/{token}/board/").status_code == 200
    with affiliate_context(today.a):
        link = WhiteboardLink.objects.get()
    coach = client_for(today.a, today.coach_a)
    page = coach.post("/whiteboard/links/", {"action": "revoke", "link": link.pk}, follow=True).content.decode()
    assert "Main floor TV revoked" in page
    with affiliate_context(today.a):
        link.refresh_from_db()
    assert link.revoked_at is not None and link.revoked_by == "coach_a@gym.test"

    for path in (f"/tv/{token}/", f"/tv/{token}/board/"):
        refused = anonymous.get(path)
        assert refused.status_code == 403
        assert "revoked" in refused.content.decode() and "Grace" not in refused.content.decode()
    unknown = anonymous.get("/tv/" + "A" * 43 + "/")
    assert unknown.status_code == 404 and "Grace" not in unknown.content.decode()
    assert anonymous.get("/tv/short/board/").status_code == 404
    assert anonymous.get(f"/tv/{token}%0A/").status_code == 404  # the token and a newline is no token
    # Revoking twice changes nothing and says so.
    again = coach.post("/whiteboard/links/", {"action": "revoke", "link": link.pk}, follow=True).content.decode()
    assert "already revoked" in again


def test_a_token_of_one_gym_opens_nothing_on_another(today):
    _, token = make_link(today)
    on_b = client_for(today.b).get(f"/tv/{token}/")
    assert on_b.status_code == 404
    assert "Grace" not in on_b.content.decode() and "B Only Today" not in on_b.content.decode()
    # Even a row with the same token made in gym B's database: hashed for gym A, it is not B's.
    with affiliate_context(today.b):
        link_b, token_b = link_create(affiliate_id=today.b.pk, label="B TV", created_by="owner_b")
        assert link_check(affiliate_id=today.a.pk, token=token_b).status == "unknown"
        assert link_check(affiliate_id=today.b.pk, token=token_b).status == "ok"


def test_only_coaches_make_links_and_a_bad_label_changes_nothing(today):
    from gym.accounts.models import GymLogin
    from tests.factories import gym_login

    athlete = client_for(today.a, gym_login(today.a, "ann@a.test", GymLogin.Role.ATHLETE, member=today.ann))
    assert athlete.post("/whiteboard/links/", {"action": "create", "label": "TV"}).status_code == 403
    coach = client_for(today.a, today.coach_a)
    for bad in ("", "   ", "x" * 81, "a\x00b", "\x1b[31m"):
        refused = coach.post("/whiteboard/links/", {"action": "create", "label": bad})
        assert refused.status_code == 400 and 'aria-invalid="true"' in refused.content.decode()
    assert coach.post("/whiteboard/links/", {"action": "revoke", "link": "abc"}).status_code == 404
    assert coach.post("/whiteboard/links/", {"action": "revoke", "link": "999999"}).status_code == 302
    with affiliate_context(today.a):
        assert not WhiteboardLink.objects.exists()


def test_the_token_never_reaches_a_log_line(today, caplog):
    _, token = make_link(today)
    assert token not in scrub(f"GET /tv/{token}/board/ 200 3 ms")
    with caplog.at_level(logging.INFO):
        client_for(today.a).get(f"/tv/{token}/")
        client_for(today.b).get(f"/tv/{token}/")  # a 404, which Django logs with its path
    from fitbuddy.logs import ScrubSecrets

    lines = []
    for record in caplog.records:
        ScrubSecrets().filter(record)
        lines.append(record.getMessage())
    assert any("/tv/" in line for line in lines)
    assert not any(token in line for line in lines)


def test_the_tv_shows_the_class_under_way_and_its_roster_only(today):
    """A class on the floor now (gym/classes): the TV's board is its track's, with its roster's scores."""
    from gym.classes.models import ClassSchedule
    from gym.classes.services import book

    now = timezone.now().astimezone(datetime.UTC)
    starts = (now - datetime.timedelta(minutes=10)).replace(second=0, microsecond=0)
    if starts.date() != now.date():  # just after midnight: a class that started at 00:00
        starts = now.replace(hour=0, minute=0, second=0, microsecond=0)
    with affiliate_context(today.a):
        noon = ClassSchedule.objects.create(
            name="Lunch WOD",
            weekday=now.isoweekday(),
            starts_at=starts.time(),
            length_minutes=90,
            capacity=12,
            track="main",
            active_from=now.date() - datetime.timedelta(days=7),
        )
    _, token = make_link(today)
    anonymous = client_for(today.a)

    before = anonymous.get(f"/tv/{token}/board/").content.decode()
    # Nobody booked yet: the class's heading and track, with everyone's scores on it.
    assert "Lunch WOD" in before and "Deadlift 5x5" not in before
    assert "Ann A." in before and "Al A." in before

    with affiliate_context(today.a):
        book(member=today.ann, schedule=noon, day=now.date(), now=starts - datetime.timedelta(hours=3))
    after = anonymous.get(f"/tv/{token}/board/").content.decode()
    assert "Lunch WOD" in after and "Ann A." in after
    assert "Al A." not in after  # not in the class


def test_the_tv_lists_a_days_parts_in_their_order_with_their_labels(today):
    with affiliate_context(today.a):
        warm_up = WorkoutFactory(name="Row and stretch", part="Warm-up", scheduled_on=timezone.localdate())
        # The coach moved the warm-up ahead of Grace on the day page.
        Workout.objects.filter(pk=warm_up.pk).update(part_position=0)
    _, token = make_link(today)
    page = client_for(today.a).get(f"/tv/{token}/board/").content.decode()
    assert "Warm-up:</span> Row and stretch" in page
    assert page.index("Row and stretch") < page.index("Grace")
