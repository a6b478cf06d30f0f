"""gym/widgets.py: the select written in Python is Django's select, byte for byte."""

from __future__ import annotations

import pytest
from django import forms

from gym.widgets import ListSelect

CHOICES = [("", "Choose a member"), *((i, f'M{i} <Ölafsdóttir> & "quoted"') for i in range(1, 40))]
GROUPED = [("", "---"), ("Lifts", [(1, "Back Squat"), (2, "Deadlift")]), ("Gymnastics", [(3, "Pull-up")])]


@pytest.mark.parametrize("choices", [CHOICES, GROUPED], ids=["flat", "grouped"])
@pytest.mark.parametrize("value", ["7", 2, "", None, "not a choice"])
@pytest.mark.parametrize(
    "attrs",
    [{"id": "id_member", "required": True, "aria-invalid": "true", "aria-describedby": "id_member_error"}, None],
)
def test_list_select_writes_what_djangos_select_writes(choices, value, attrs):
    expected = forms.Select(choices=choices).render("member", value, attrs)
    assert ListSelect(choices=choices).render("member", value, attrs) == expected
