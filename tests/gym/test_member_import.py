"""Members imported from CSV with any headers: the mapping guessed and changed, dates in any common
format, every refused row with its line, column and value, all or nothing or the good rows only."""

from __future__ import annotations

import base64
import datetime
import html
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


def form_of(page: str) -> dict[str, str]:
    """The mapping step's fields as the page gives them (the selected option of each select)."""
    fields = {"payload": re.search(r'name="payload" value="([^"]+)"', page).group(1)}
    for name, options in re.findall(r'<select id="[^"]+" name="([^"]+)">(.*?)</select>', page, re.S):
        selected = re.search(r'<option value="([^"]*)" selected>', options)
        fields[name] = selected.group(1) if selected else ""
    return fields


def confirm(client, preview_page: str, **changes):
    """Post the mapping step as shown, with ``changes`` (a column's field, partial, action...)."""
    return client.post(IMPORT, {**form_of(preview_page), "action": "import", **changes})


def text(response) -> str:
    return html.unescape(response.content.decode())


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
    assert "Imported members: 2 added, 1 updated, 0 unchanged." in client.get(response["Location"]).content.decode()
    after = members(gyms.a)
    assert after["zoe@a.test"] == ("Zoë", "Zimmer", "F", datetime.date(1990, 4, 1), datetime.date(2026, 1, 2), True)
    assert after["yann@a.test"][2:] == ("M", None, datetime.date.today(), True)
    assert after["ann@a.test"][1:] == ("A-Smith", "F", None, datetime.date(2025, 1, 1), False)


ODD = (
    "Given name,Surname,E-mail Address,Sex,Birthday,Join date,Phone\n"
    "Wanda,West,wanda@a.test,Woman,31.12.1990,15-Mar-2024,555-0100\n"
    "Walt,West,walt@a.test,M,Dec 1 1985,2024-03-16,555-0101\n"
)


def test_odd_headers_are_guessed_and_unknown_columns_ignored(gyms):
    client = client_for(gyms.a, gyms.owner_a)
    page = upload(client, ODD.encode()).content.decode()
    fields = form_of(page)
    assert [fields[f"column-{i}"] for i in range(7)] == [
        "first_name",
        "last_name",
        "email",
        "gender",
        "birth_date",
        "joined_on",
        "",
    ]
    assert "Ready: 2 to add, 0 to update, 0 unchanged" in page
    assert confirm(client, page).status_code == 302
    after = members(gyms.a)
    assert after["wanda@a.test"][:5] == ("Wanda", "West", "F", datetime.date(1990, 12, 31), datetime.date(2024, 3, 15))
    assert after["walt@a.test"][2:5] == ("M", datetime.date(1985, 12, 1), datetime.date(2024, 3, 16))


@pytest.mark.parametrize(
    ("header", "guess"),
    [
        ("First Name", "first_name"),
        ("first", "first_name"),
        ("Given name", "first_name"),
        ("Email Address", "email"),
        ("E-mail", "email"),
        ("DOB", "birth_date"),
        ("Birthday", "birth_date"),
        ("Date of Birth", "birth_date"),
        ("Member Since", "joined_on"),
        ("Start Date", "joined_on"),
        ("Join date", "joined_on"),
        ("Gender", "gender"),
        ("Sex", "gender"),
        ("Client Name", "name"),
        ("Favourite lift", ""),
    ],
)
def test_each_header_synonym_is_guessed(header, guess):
    from gym.members.imports import SYNONYMS
    from gym.members.tabular import guess_mapping

    assert guess_mapping([header], SYNONYMS) == [guess]


def test_the_owner_changes_the_mapping_and_a_full_name_is_split(gyms):
    client = client_for(gyms.a, gyms.owner_a)
    page = upload(client, b"Person,Contact,Notes\nMia Maria Moss,mia@a.test,likes rowing\n").content.decode()
    assert "Choose the column that holds the first name" in text_of(page)
    assert "mia@a.test" not in members(gyms.a)

    response = confirm(client, page, **{"column-0": "name", "column-1": "email", "column-2": ""})
    assert response.status_code == 302
    assert members(gyms.a)["mia@a.test"][:2] == ("Mia", "Maria Moss")


def text_of(page: str) -> str:
    return html.unescape(page)


def test_a_mapping_that_cannot_work_imports_nothing(gyms):
    client = client_for(gyms.a, gyms.owner_a)
    page = upload(client, b"first_name,email,other\nNo,no@a.test,x@a.test\n").content.decode()
    before = members(gyms.a)
    twice = text(confirm(client, page, **{"column-2": "email"}))
    assert "E-mail is chosen for two columns ('email' and 'other')" in twice
    assert "Nothing was imported" in twice
    unknown = text(confirm(client, page, **{"column-1": "password"}))
    assert "Column 'email': choose one of the listed fields." in unknown
    assert members(gyms.a) == before


def test_refused_rows_show_line_column_value_and_why_then_the_good_rows_import(gyms):
    client = client_for(gyms.a, gyms.owner_a)
    data = (
        b"first_name,last_name,email,gender,birth_date,joined_on,active\n"
        b"Good,One,good@a.test,Male,,,yes\n"
        b",Nameless,nameless@a.test,Male,,,yes\n"
        b"Bad,Date,bad@a.test,Male,2099-01-01,,yes\n"
        b"Twice,Again,good@a.test,Robot,,,maybe\n"
        b"When,Then,when@a.test,F,32/13/1990,,\n"
        b"=cmd|' /C calc'!A0,Evil,evil@a.test,F,,,\n"
    )
    before = members(gyms.a)
    page = text(upload(client, data))
    assert "5 rows refused" in page
    for line, column, value, why in (
        (3, "first_name", "", "Enter a first name"),
        (4, "birth_date", "2099-01-01", "A birth date cannot be in the future"),
        (5, "email", "good@a.test", "is also on line 2"),
        (5, "gender", "Robot", "is not Female, Male or Other"),
        (5, "active", "maybe", "is not yes or no"),
        (6, "birth_date", "32/13/1990", "is not a day of the calendar"),
        (7, "first_name", "=cmd|' /C calc'!A0", "is a spreadsheet formula"),
    ):
        row = f'<td class="num">{line}</td><td>{column}</td><td><code>{value}</code></td><td>{why}'
        assert row in page, row

    refused = text(confirm(client, page))  # all or nothing, the default
    assert "Nothing was imported: some rows are refused" in refused
    assert members(gyms.a) == before

    response = confirm(client, page, partial="1")
    assert response.status_code == 302
    message = text(client.get(response["Location"]))
    assert "Imported members: 1 added, 0 updated, 0 unchanged. 5 refused rows left out (line 3, 4, 5, 6, 7)." in message
    assert set(members(gyms.a)) - set(before) == {"good@a.test"}


def test_importing_the_same_file_again_changes_nothing(gyms):
    client = client_for(gyms.a, gyms.owner_a)
    assert confirm(client, upload(client, ODD.encode()).content.decode()).status_code == 302
    first = members(gyms.a)
    page = upload(client, ODD.encode()).content.decode()
    assert "Ready: 0 to add, 0 to update, 2 unchanged" in page
    assert confirm(client, page).status_code == 302
    assert members(gyms.a) == first


def test_day_and_month_order_is_read_from_the_file_or_asked(gyms):
    client = client_for(gyms.a, gyms.owner_a)
    decided = b"first_name,email,dob\nA,a1@a.test,03/04/1990\nB,b1@a.test,25/12/1991\n"
    page = upload(client, decided).content.decode()
    assert form_of(page)["date_order"] == "dmy"  # 25/12 can only be day first
    assert confirm(client, page).status_code == 302
    assert members(gyms.a)["a1@a.test"][3] == datetime.date(1990, 4, 3)

    undecided = b"first_name,email,dob\nC,c1@a.test,03/04/1990\nD,d1@a.test,05/06/1991\n"
    page = upload(client, undecided).content.decode()
    assert 'id="order-needed"' in page
    assert "Nothing was imported: finish the choices" in text(confirm(client, page))
    assert "c1@a.test" not in members(gyms.a)
    assert confirm(client, page, date_order="mdy").status_code == 302
    assert members(gyms.a)["c1@a.test"][3] == datetime.date(1990, 3, 4)

    contradicted = b"first_name,email,dob\nE,e1@a.test,12/31/1990\n"
    page = text(confirm(client, upload(client, contradicted).content.decode(), date_order="dmy"))
    assert "<code>12/31/1990</code><td>can only be month first" in page.replace("</td>", "")


def utf16_excel() -> bytes:
    """Excel's "Unicode text": UTF-16 with a byte-order mark, tab-separated."""
    return "First Name\tLast Name\tE-mail\nÜrsula\tÖz\tursula@a.test\n".encode("utf-16")


def test_excel_unicode_text_is_read(gyms):
    client = client_for(gyms.a, gyms.owner_a)
    page = upload(client, utf16_excel()).content.decode()
    assert "Ready: 1 to add" in page
    assert confirm(client, page).status_code == 302
    assert members(gyms.a)["ursula@a.test"][:2] == ("Ürsula", "Öz")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        ("first_name,email\nJos\xe9,jose@a.test\n".encode("latin-1"), "save it as “CSV UTF-8”"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV file"),
        (b"first_name,email\n", "a header but no rows"),
        (b"first_name,email\n" + b"A,a@a.test\n" * 50_000, "import at most 5000 at a time"),
        (b"x" * (10 * 1024 * 1024), "larger than 1 MB"),
    ],
)
def test_files_that_cannot_be_read_are_refused_whole(gyms, data, message):
    client = client_for(gyms.a, gyms.owner_a)
    before = members(gyms.a)
    page = text(upload(client, data))
    assert message in page and "Nothing was imported" in page
    assert 'name="payload"' not in page
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
    refused = text(client.post(IMPORT, {"payload": sneaky}))
    assert "Nothing was imported" in refused and "x@a.test" not in members(gyms.a)


def test_coaches_may_not_import_members(gyms):
    client = client_for(gyms.a, gyms.coach_a)
    assert upload(client, ODD.encode()).status_code == 403
    assert "wanda@a.test" not in members(gyms.a)


def test_a_drop_in_the_file_lists_becomes_a_member(gyms):
    """A visitor first seen as a drop-in, then listed in the gym's member file, is one of its members."""
    with affiliate_context(gyms.a):
        MemberFactory(first_name="Dee", last_name="Visitor", email="dee@a.test", kind=Member.Kind.DROP_IN)
    client = client_for(gyms.a, gyms.owner_a)
    page = upload(client, b"First Name,Last Name,Email\nDee,Visitor,dee@a.test\n").content.decode()
    assert "0 to add, 1 to update" in page
    assert confirm(client, page).status_code == 302
    with affiliate_context(gyms.a):
        assert Member.objects.get(email="dee@a.test").kind == Member.Kind.MEMBER
