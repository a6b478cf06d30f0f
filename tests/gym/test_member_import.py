"""Members imported from CSV in the export's own format: preview, per-row errors, all or nothing."""

from __future__ import annotations

import base64
import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from affiliates.routing.context import affiliate_context
from gym.members.models import Member
from tests.conftest import client_for
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

URLCONF = "fitbuddy.urls_gym"
IMPORT = reverse("members:import", urlconf=URLCONF)


def upload(client, data: bytes):
    return client.post(IMPORT, {"file": SimpleUploadedFile("members.csv", data, content_type="text/csv")})


def confirm(client, preview_page: str):
    payload = re.search(r'name="payload" value="([^"]+)"', preview_page)
    assert payload, "the preview offers no import button"
    return client.post(IMPORT, {"payload": payload.group(1)})


def members(gym) -> dict[str, tuple]:
    with affiliate_context(gym):
        return {
            m.email: (m.first_name, m.last_name, m.gender, m.birth_date, m.joined_on, m.is_active)
            for m in Member.objects.all()
        }


def test_an_export_imports_back_unchanged_and_exports_identically(gyms):
    with affiliate_context(gyms.a):
        MemberFactory(first_name="=cmd|' /C calc'!A0", last_name="Ólafsdóttir", email="odd@a.test", is_active=False)
    client = client_for(gyms.a, gyms.owner_a)
    exported = client.get(reverse("members:export", urlconf=URLCONF)).content
    before = members(gyms.a)

    preview = upload(client, exported).content.decode()
    assert "Ready: 0 to add, 0 to update, 3 unchanged" in preview
    assert confirm(client, preview).status_code == 302

    assert members(gyms.a) == before
    assert client.get(reverse("members:export", urlconf=URLCONF)).content == exported


def test_a_spreadsheet_file_is_previewed_then_imported(gyms):
    client = client_for(gyms.a, gyms.owner_a)
    data = (
        "\ufefffirst_name;last_name;email;gender;birth_date;joined_on;active\r\n"
        "Zoë;Zimmer;ZOE@a.test;Female;1990-04-01;2026-01-02;yes\r\n"
        "Yann;Yi;yann@a.test;M;;;\r\n"
        "Ann;A-Smith;ann@a.test;female;;2025-01-01;no\r\n"
        ";;;;;;\r\n"
    ).encode()
    preview = upload(client, data).content.decode()
    assert "Ready: 2 to add, 1 to update, 0 unchanged" in preview
    assert members(gyms.a)["ann@a.test"][1] == "A"  # a preview saves nothing

    response = confirm(client, preview)
    assert response.status_code == 302
    assert "Imported: 2 added, 1 updated, 0 unchanged." in client.get(response["Location"]).content.decode()
    after = members(gyms.a)
    assert after["zoe@a.test"] == ("Zoë", "Zimmer", "F", datetime.date(1990, 4, 1), datetime.date(2026, 1, 2), True)
    assert after["yann@a.test"][2:] == ("M", None, datetime.date.today(), True)
    assert after["ann@a.test"][1:] == ("A-Smith", "F", None, datetime.date(2025, 1, 1), False)


def test_one_refused_row_imports_nothing_and_each_error_names_its_line(gyms):
    client = client_for(gyms.a, gyms.owner_a)
    data = (
        b"first_name,last_name,email,gender,birth_date,joined_on,active\n"
        b"Good,One,good@a.test,Male,,,yes\n"
        b",Nameless,nameless@a.test,Male,,,yes\n"
        b"Bad,Date,bad@a.test,Male,2099-01-01,,yes\n"
        b"Twice,Again,good@a.test,Robot,,,maybe\n"
        b"Short,Row\n"
    )
    before = members(gyms.a)
    page = upload(client, data).content.decode()

    assert "4 rows refused" in page  # every line but the first
    assert 'name="payload"' not in page  # nothing to confirm
    for expected in (
        "first_name: Enter a first name",
        "birth_date: A birth date cannot be in the future",
        "good@a.test is also on line 2",
        "gender &#x27;Robot&#x27; is not Female, Male or Other / not given",
        "active &#x27;maybe&#x27; is not yes or no",
        "has 2 cells where the header has 7 columns",
    ):
        assert expected in page, expected
    assert members(gyms.a) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        ("first_name,email\nJos\xe9,jose@a.test\n".encode("latin-1"), "save it as “CSV UTF-8”"),
        (b"name,mail\nA,a@a.test\n", "Unknown: name, mail. Missing: email, first_name."),
        (b"first_name,email\n" + b"A,a@a.test\n" * 5001, "import at most 5000 at a time"),
        (b"x" * (1024 * 1024 + 1), "larger than 1 MB"),
    ],
)
def test_files_that_cannot_be_read_are_refused_whole(gyms, data, message):
    client = client_for(gyms.a, gyms.owner_a)
    before = members(gyms.a)
    page = upload(client, data).content.decode()
    assert message in page and "Nothing was imported" in page
    assert members(gyms.a) == before


def test_a_confirmation_is_checked_again_and_a_tampered_one_is_refused(gyms):
    client = client_for(gyms.a, gyms.owner_a)
    data = b"first_name,email\nNew,new@a.test\n"
    preview = upload(client, data).content.decode()
    with affiliate_context(gyms.a):
        MemberFactory(first_name="Quick", email="new@a.test")  # someone added them meanwhile: now an update
    assert confirm(client, preview).status_code == 302
    assert members(gyms.a)["new@a.test"][0] == "New"

    bad = client.post(IMPORT, {"payload": "not base64!"}).content.decode()
    assert "could not be read back" in bad
    sneaky = base64.b64encode(b"first_name,email\n,x@a.test\n").decode()
    refused = client.post(IMPORT, {"payload": sneaky}).content.decode()
    assert "nothing was imported" in refused and "x@a.test" not in members(gyms.a)
