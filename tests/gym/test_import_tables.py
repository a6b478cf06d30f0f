"""Reading other programs' files, without a database: dates in every common format and the file's
day/month order, the words for levels and score types, and the score type a new workout's scores show."""

from __future__ import annotations

import datetime

import pytest

from gym.members.tabular import (
    AUTO,
    DAY_FIRST,
    MONTH_FIRST,
    DateProblem,
    ImportRefused,
    Problem,
    file_date_order,
    formula_problem,
    parse_date,
    read_table,
)
from gym.workouts.models import ScalingLevel, ScoreType
from gym.workouts.result_import_rules import infer_score_type, level_of, score_type_of

NYE = datetime.date(1990, 12, 31)


@pytest.mark.parametrize(
    "text",
    [
        "1990-12-31",
        "1990/12/31",
        "1990-12-31 00:00:00",
        "1990-12-31T08:15:00Z",
        "19901231",
        "31/12/1990",
        "12/31/1990",
        "31.12.1990",
        "31-12-1990",
        "31-Dec-1990",
        "31 Dec 1990",
        "31 December 1990",
        "Dec 31 1990",
        "Dec 31, 1990",
        "December 31st, 1990",
        "Mon, Dec 31, 1990",
        "12/31/1990 6:00 AM",
    ],
)
def test_every_common_date_format_reads(text):
    assert parse_date(text, AUTO) == NYE


def test_a_date_both_ways_is_read_in_the_order_given_or_asked():
    assert parse_date("03/04/2024", DAY_FIRST) == datetime.date(2024, 4, 3)
    assert parse_date("03/04/2024", MONTH_FIRST) == datetime.date(2024, 3, 4)
    assert parse_date("04/04/2024", AUTO) == datetime.date(2024, 4, 4)  # either way the same day
    with pytest.raises(DateProblem, match="could be day/month or month/day"):
        parse_date("03/04/2024", AUTO)
    with pytest.raises(DateProblem, match="can only be day first"):
        parse_date("31/12/1990", MONTH_FIRST)


@pytest.mark.parametrize("text", ["31/02/1990", "1990-13-01", "yesterday", "12/31/90", "Smarch 3 1990", "2026-02-30"])
def test_what_is_no_date_says_how_to_write_one(text):
    with pytest.raises(DateProblem, match="1990-12-31, 31/12/1990"):
        parse_date(text, DAY_FIRST)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["03/04/2024", "25/12/2024"], (DAY_FIRST, True)),
        (["03/04/2024", "12/25/2024"], (MONTH_FIRST, True)),
        (["03/04/2024", "05/06/2024"], (AUTO, True)),
        (["2024-03-04", "04/04/2024"], (AUTO, False)),
        (["25/12/2024", "12/25/2024"], (AUTO, False)),  # the file shows both: each is read as it can only be
    ],
)
def test_the_files_dates_decide_the_order_when_some_date_can(values, expected):
    assert file_date_order(values) == expected


def test_a_formula_cell_is_a_problem_and_numbers_are_not():
    assert formula_problem("Name", ["=cmd|' /C calc'!A0"], 0) == Problem(
        "Name", "=cmd|' /C calc'!A0", "is a spreadsheet formula, not a value: type the value itself."
    )
    assert formula_problem("Score", ["-3"], 0) is None
    assert formula_problem("Name", ["@SUM(A1)"], 0) is not None


def test_excel_utf16_tabs_and_semicolons_are_read():
    assert read_table("a\tb\n1\t2\n".encode("utf-16"), max_rows=5).rows == [(2, ["1", "2"])]
    assert read_table(b"\xef\xbb\xbfa;b\r\n1;2\r\n\r\n", max_rows=5).header == ["a", "b"]
    with pytest.raises(ImportRefused, match="at most 2"):
        read_table(b"a\n1\n2\n3\n", max_rows=2)


@pytest.mark.parametrize(
    ("word", "level"),
    [
        ("RX", ScalingLevel.RX),
        ("Rx'd", ScalingLevel.RX),
        ("true", ScalingLevel.RX),
        ("True", ScalingLevel.RX),
        ("", ScalingLevel.RX),
        ("Rx+", ScalingLevel.RX_PLUS),
        ("rx_plus", ScalingLevel.RX_PLUS),
        ("SCALED", ScalingLevel.SCALED),
        ("False", ScalingLevel.SCALED),
        ("Foundations", ScalingLevel.FOUNDATIONS),
        ("Elite", None),
    ],
)
def test_level_words(word, level):
    assert level_of(word) == level


@pytest.mark.parametrize(
    ("word", "score_type"),
    [
        ("Load", ScoreType.LOAD),
        ("Rounds + Reps", ScoreType.ROUNDS_REPS),
        ("Reps", ScoreType.REPS),
        ("Time", ScoreType.TIME),
        ("", ""),
        ("Calories", ScoreType.CALORIES),
        ("Meters", ScoreType.DISTANCE),
        ("Checkbox", ScoreType.PASS_FAIL),
        ("Inches", None),
        ("Emoji", None),
    ],
)
def test_sugarwod_score_type_words(word, score_type):
    assert score_type_of(word) == score_type


@pytest.mark.parametrize(
    ("scores", "score_type"),
    [
        (["3:45", "12:01.5", "CAP+15"], ScoreType.TIME),
        (["5+12", "7 rounds", "6"], ScoreType.ROUNDS_REPS),
        (["225 lb", "100 kg", "95"], ScoreType.LOAD),
        (["2000 m", "5 km"], ScoreType.DISTANCE),
        (["42 cal", "38"], ScoreType.CALORIES),
        (["150", "87 reps"], ScoreType.REPS),
        (["pass", "fail"], ScoreType.PASS_FAIL),
        (["3:45", "42"], None),
        (["fast"], None),
    ],
)
def test_a_new_workouts_score_type_is_read_from_its_scores(scores, score_type):
    assert infer_score_type(scores) == score_type
