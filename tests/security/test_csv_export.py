"""The members export never hands a spreadsheet a formula, whatever separator it splits on, and the
import reads an export back unchanged."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from affiliates.routing.context import affiliate_context
from gym.members.models import Member
from gym.members.spreadsheet import FORMULA_CHARACTERS, cell_restore, cell_safe
from tests.conftest import client_for
from tests.factories import MemberFactory
from tests.gym.test_member_import import URLCONF, confirm, members, upload

NASTY = [
    "x;=cmd()",
    "x,=cmd()",
    "a|+SUM(1)",
    'first\n=HYPERLINK("http://evil")',
    "first\r\n-2+3",
    "tab\t@evil",
    "x; =spaced()",
    "+1-2",
    "-3",
    "@SUM(A1)",
    "\tTab",
    "\rCR",
    "'=already quoted",
    "x;''=two quotes",
    "O'Brien",
    "plain",
]


def _formula_starts(cell: str, separators: str) -> list[str]:
    """Each piece a spreadsheet splitting on ``separators`` or a line break would make a cell of,
    that it would run as a formula."""
    pieces = [cell]
    for separator in separators + "\r\n":
        pieces = [part for piece in pieces for part in piece.split(separator)]
    return [piece for piece in pieces if piece.lstrip(" ").startswith(tuple(FORMULA_CHARACTERS))]


@pytest.mark.parametrize("value", NASTY)
def test_no_piece_of_a_safe_cell_starts_a_formula_and_the_cell_reads_back(value):
    safe = cell_safe(value)

    assert not _formula_starts(safe, ",;|\t"), safe
    assert cell_restore(safe) == value


@pytest.mark.django_db(transaction=True)
def test_the_export_neutralises_formulas_after_separators_and_imports_back_unchanged(gyms):
    with affiliate_context(gyms.a):
        # (Forms strip a value's outer whitespace, so a name never starts with a tab or CR in the database.)
        for number, value in enumerate(v for v in NASTY if v == v.strip()):
            MemberFactory(
                first_name=value.replace("\r", "").replace("\n", " "), last_name=value, email=f"n{number}@a.test"
            )
    client = client_for(gyms.a, gyms.owner_a)
    exported = client.get(reverse("members:export", urlconf=URLCONF)).content
    before = members(gyms.a)

    rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"), newline="")))
    for separators in (",;|\t",):
        bad = [cell for row in rows for cell in row if _formula_starts(cell, separators)]
        assert not bad
    # Every cell quoted: a spreadsheet splitting on ';' keeps "x;'=cmd()" as one cell.
    assert b'"x;\'=cmd()"' in exported

    preview = upload(client, exported).content.decode()
    assert f"0 to add, 0 to update, {len(rows) - 1} unchanged" in preview
    assert confirm(client, preview).status_code == 302
    assert members(gyms.a) == before
    assert client.get(reverse("members:export", urlconf=URLCONF)).content == exported
    with affiliate_context(gyms.a):
        assert Member.objects.get(email="n0@a.test").last_name == "x;=cmd()"
