"""The results sheet: a whole class recorded in one page, validated per row, saved in one go."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from affiliates.routing.connections import alias_for
from affiliates.routing.context import affiliate_context
from gym.members.models import Member
from gym.workouts.models import Participation, PersonalRecord, Workout
from tests.conftest import client_for
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

URLCONF = "fitbuddy.urls_gym"


def sheet_url(workout) -> str:
    return reverse("workouts:sheet", args=[workout.pk], urlconf=URLCONF)


def row(member, level="rx", score="", status="finished", tiebreak=None) -> dict[str, str]:
    data = {f"m{member.pk}-scaling_level": level, f"m{member.pk}-score": score, f"m{member.pk}-status": status}
    if tiebreak is not None:
        data[f"m{member.pk}-tiebreak"] = tiebreak
    return data


def post(members_rows: list[dict], **extra) -> dict[str, str]:
    data = {"action": "save", "default_level": "rx", **extra}
    for one in members_rows:
        data.update(one)
    return data


def class_of(gyms, size: int) -> list[Member]:
    with affiliate_context(gyms.a):
        return [gyms.ann, gyms.al] + [
            MemberFactory(first_name=f"Athlete{n:02d}", last_name="S", email=f"athlete{n}@a.test")
            for n in range(size - 2)
        ]


def test_the_sheet_lists_active_members_with_recorded_rows_filled(gyms):
    with affiliate_context(gyms.a):
        Participation.objects.create(workout=gyms.fran_a, member=gyms.ann, score_value=185_000, recorded_by="x")
        MemberFactory(first_name="Gone", last_name="G", email="gone@a.test", is_active=False)
    page = client_for(gyms.a, gyms.coach_a).get(sheet_url(gyms.fran_a)).content.decode()
    assert f'id="m{gyms.ann.pk}"' in page and f'id="m{gyms.al.pk}"' in page
    assert 'value="3:05"' in page  # Ann's recorded Fran, in its unit
    assert "Gone G" not in page  # deactivated, no result: not on the sheet
    assert 'aria-label="Score for Al A"' in page  # every input has a label


def test_a_class_of_fifteen_is_saved_in_one_post_and_ranks(gyms):
    members = class_of(gyms, 15)
    client = client_for(gyms.a, gyms.coach_a)
    rows = [
        row(m, level="scaled" if n % 3 == 0 else "rx", score=f"{3 + n // 4}:{n * 3 % 60:02d}")
        for n, m in enumerate(members)
    ]

    response = client.post(sheet_url(gyms.fran_a), post(rows))

    assert response.status_code == 302
    assert "Saved 15 results." in client.get(response["Location"]).content.decode()
    with affiliate_context(gyms.a):
        saved = Participation.objects.filter(workout=gyms.fran_a)
        assert saved.count() == 15
        assert set(saved.values_list("recorded_by", flat=True)) == {"coach_a@gym.test"}
        assert all(p.sort_key is not None for p in saved)  # the database ranked every row
        assert saved.get(member=members[0]).scaling_level == "scaled"
        assert saved.get(member=members[1]).score_value == 3 * 60_000 + 3_000


def test_saving_a_sheet_takes_the_same_queries_for_five_or_fifteen(gyms):
    members = class_of(gyms, 15)
    client = client_for(gyms.a, gyms.coach_a)
    counts = []
    for workout, size in ((gyms.squat_a, 5), (None, 15)):
        if workout is None:
            with affiliate_context(gyms.a):
                workout = Workout.objects.create(name="Squat again", score_type="load", scaling_levels=["rx"])
                workout.movements.create(exercise=gyms.squat, position=1)
        rows = [row(m, score=f"{80 + n},5 kg") for n, m in enumerate(members[:size])]
        with CaptureQueriesContext(connections[alias_for(gyms.a)]) as queries:
            assert client.post(sheet_url(workout), post(rows)).status_code == 302
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    with affiliate_context(gyms.a):
        records = dict(PersonalRecord.objects.filter(exercise=gyms.squat).values_list("member_id", "value"))
    assert records[members[0].pk] == 80_500 and records[members[14].pk] == 94_500  # both sheets, PRs in bulk


def test_errors_show_on_their_rows_and_nothing_is_saved(gyms):
    members = class_of(gyms, 4)
    client = client_for(gyms.a, gyms.coach_a)
    rows = [
        row(members[0], score="3:10"),
        row(members[1], score="12:65"),
        row(members[2], score="4:00", status="dnf"),
        row(members[3], score="2:59"),
    ]

    response = client.post(sheet_url(gyms.fran_a), post(rows))

    page = response.content.decode()
    assert response.status_code == 200 and "2 rows need fixing" in page and "nothing was saved" in page
    assert "seconds must be below 60" in page and "has no score" in page
    assert 'value="3:10"' in page and 'value="2:59"' in page  # what was typed stays typed
    assert page[page.index("<tbody>") : page.index("</tbody>")].count('aria-invalid="true"') == 2
    with affiliate_context(gyms.a):
        assert not Participation.objects.filter(workout=gyms.fran_a).exists()


def test_empty_and_unchanged_rows_are_left_alone(gyms):
    with affiliate_context(gyms.a):
        Participation.objects.create(
            workout=gyms.fran_a, member=gyms.ann, score_value=185_000, scaling_level="rx", recorded_by="owner_a"
        )
    client = client_for(gyms.a, gyms.coach_a)
    data = post([row(gyms.ann, score="3:05"), row(gyms.al, score="")])
    response = client.post(sheet_url(gyms.fran_a), data)
    assert response.status_code == 200 and "Nothing to save" in response.content.decode()
    with affiliate_context(gyms.a):
        ann = Participation.objects.get(workout=gyms.fran_a, member=gyms.ann)
        assert ann.recorded_by == "owner_a"  # untouched: still attributed to who recorded it
        assert not Participation.objects.filter(member=gyms.al).exists()

    changed = client.post(sheet_url(gyms.fran_a), post([row(gyms.ann, level="scaled", score="3:05")]))
    assert changed.status_code == 302
    with affiliate_context(gyms.a):
        ann = Participation.objects.get(workout=gyms.fran_a, member=gyms.ann)
        assert (ann.scaling_level, ann.recorded_by) == ("scaled", "coach_a@gym.test")

    emptied = client.post(sheet_url(gyms.fran_a), post([row(gyms.ann, level="scaled", score="")]))
    assert "cannot be emptied here" in emptied.content.decode()


def test_the_level_chosen_last_is_remembered(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    client.post(sheet_url(gyms.fran_a), post([row(gyms.ann, level="scaled", score="5:00")], default_level="scaled"))
    page = client.get(sheet_url(gyms.fran_a)).content.decode()
    al_level = page[page.index(f'name="m{gyms.al.pk}-scaling_level"') :]
    assert al_level.index('value="scaled" selected') < al_level.index("</select>")
    detail = client.get(reverse("workouts:detail", args=[gyms.fran_a.pk], urlconf=URLCONF)).content.decode()
    form_level = detail[detail.index('name="scaling_level"') :]
    assert form_level.index('value="scaled" selected') < form_level.index("</select>")


def test_a_drop_in_is_added_from_the_sheet(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    data = {"action": "dropin", "dropin-first_name": "Dana", "dropin-last_name": "Drop", "dropin-email": "Dana@X.test"}
    response = client.post(sheet_url(gyms.fran_a), data)
    assert response.status_code == 302
    with affiliate_context(gyms.a):
        dana = Member.objects.get(email="dana@x.test")
    assert response["Location"].endswith(f"#m{dana.pk}")
    assert f'id="m{dana.pk}"' in client.get(sheet_url(gyms.fran_a)).content.decode()
    # A drop-in is a visit, not a member: the same e-mail again finds the same person, never a second row.
    assert dana.kind == Member.Kind.DROP_IN
    again = client.post(sheet_url(gyms.fran_a), data)
    assert again.status_code == 302
    with affiliate_context(gyms.a):
        assert Member.objects.filter(email="dana@x.test").count() == 1


def test_a_member_of_another_gym_in_a_sheet_post_is_ignored(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    response = client.post(sheet_url(gyms.fran_a), post([row(gyms.bob, score="3:00"), row(gyms.ann, score="4:00")]))
    assert response.status_code == 302
    with affiliate_context(gyms.a):
        assert list(Participation.objects.values_list("member_id", flat=True)) == [gyms.ann.pk]


def test_a_result_at_a_level_no_longer_offered_is_left_as_it_is(gyms):
    with affiliate_context(gyms.a):
        Participation.objects.create(
            workout=gyms.fran_a, member=gyms.ann, scaling_level="scaled", score_value=200_000, recorded_by="owner_a"
        )
        Workout.objects.filter(pk=gyms.fran_a.pk).update(scaling_levels=["rx"])
    client = client_for(gyms.a, gyms.coach_a)
    page = client.get(sheet_url(gyms.fran_a)).content.decode()
    assert '<option value="scaled" selected>Scaled (no longer offered)</option>' in page

    # Al's new result is saved; Ann's untouched row is not rewritten at another level.
    response = client.post(
        sheet_url(gyms.fran_a), post([row(gyms.ann, level="scaled", score="3:20"), row(gyms.al, score="4:00")])
    )
    assert response.status_code == 302
    with affiliate_context(gyms.a):
        ann = Participation.objects.get(workout=gyms.fran_a, member=gyms.ann)
        assert (ann.scaling_level, ann.recorded_by) == ("scaled", "owner_a")

    changed = client.post(sheet_url(gyms.fran_a), post([row(gyms.ann, level="scaled", score="3:10")]))
    assert "This workout offers Rx only" in changed.content.decode()
