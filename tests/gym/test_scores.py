"""gym/workouts/scores.py: what people type, to exact integers and back."""

import pytest
from django.core.exceptions import ValidationError

from gym.workouts.scores import format_score, format_tiebreak, parse_score, parse_time_cap, parse_time_ms


@pytest.mark.parametrize(
    ("text", "score_type", "kwargs", "status", "value", "reps"),
    [
        ("12:34", "time", {}, "finished", 754_000, None),
        ("1:02:03", "time", {}, "finished", 3_723_000, None),
        ("12:34.5", "time", {}, "finished", 754_500, None),
        ("95s", "time", {}, "finished", 95_000, None),
        ("CAP+15", "time", {"total_reps": 90, "time_cap_seconds": 600}, "capped", None, 75),
        ("cap + 15", "time", {"total_reps": 90, "time_cap_seconds": 600}, "capped", None, 75),
        ("CAP 85 reps", "time", {"total_reps": 90, "time_cap_seconds": 600}, "capped", None, 85),
        ("5+12", "rounds_reps", {"reps_per_round": 30}, "finished", 500_012, None),
        ("5 rounds + 12 reps", "rounds_reps", {}, "finished", 500_012, None),
        ("7", "rounds_reps", {}, "finished", 700_000, None),  # a round's reps unknown: rounds
        ("7 rounds", "rounds_reps", {"reps_per_round": 30}, "finished", 700_000, None),
        ("7+0", "rounds_reps", {"reps_per_round": 30}, "finished", 700_000, None),
        ("117", "rounds_reps", {"reps_per_round": 30}, "finished", 300_027, None),  # a bare count is reps
        ("117 reps", "rounds_reps", {"reps_per_round": 30}, "finished", 300_027, None),
        ("5 + 12", "rounds_reps", {"reps_per_round": 30}, "finished", 500_012, None),  # as it is shown
        ("12.34s", "time", {}, "finished", 12_340, None),  # seconds, said outright
        ("8:12.34", "time", {}, "finished", 492_340, None),
        ("150", "reps", {}, "finished", 150, None),
        ("1,050 reps", "reps", {}, "finished", 1050, None),
        ("42 cal", "calories", {}, "finished", 42, None),
        ("87 pts", "points", {}, "finished", 87, None),
        ("102.5 kg", "load", {}, "finished", 102_500, None),
        ("102.5", "load", {}, "finished", 102_500, None),
        ("102,5 kg", "load", {}, "finished", 102_500, None),  # a decimal comma, as most of Europe writes it
        ("102,5", "load", {}, "finished", 102_500, None),
        ("60,25 kg", "load", {}, "finished", 60_250, None),
        ("2,5 km", "distance", {}, "finished", 2_500_000, None),
        ("1,5 mi", "distance", {}, "finished", 2_414_016, None),
        ("225 lb", "load", {}, "finished", 102_058, None),
        ("2345 m", "distance", {}, "finished", 2_345_000, None),
        ("5 km", "distance", {}, "finished", 5_000_000, None),
        ("1.5 mi", "distance", {}, "finished", 2_414_016, None),
        ("pass", "pass_fail", {}, "finished", 1, None),
        ("FAIL", "pass_fail", {}, "finished", 0, None),
    ],
)
def test_parses_what_people_type(text, score_type, kwargs, status, value, reps):
    score = parse_score(text, score_type, **kwargs)
    assert (score.status, score.value, score.reps_completed) == (status, value, reps)


@pytest.mark.parametrize(
    ("text", "score_type", "kwargs", "message"),
    [
        ("12:65", "time", {}, "seconds must be below 60"),
        ("12.34", "time", {}, "Did you mean 12:34? Write times as m:ss (or h:mm:ss)."),
        ("12,34", "time", {}, "Did you mean 12:34?"),
        ("117 reps", "rounds_reps", {}, "does not say how many reps make a round"),
        ("twelve", "time", {}, "not a time"),
        ("", "time", {}, "Enter a score"),
        ("0:00", "time", {}, "zero"),
        ("11:00", "time", {"time_cap_seconds": 600}, "over the 10:00 time cap"),
        ("CAP+15", "time", {"total_reps": 90}, "no time cap"),
        ("CAP+15", "time", {"time_cap_seconds": 600}, "needs the workout's total reps"),
        ("CAP+95", "time", {"total_reps": 90, "time_cap_seconds": 600}, "only 90 reps"),
        ("5+31", "rounds_reps", {"reps_per_round": 30}, "a round has 30 reps"),
        ("5-12", "rounds_reps", {}, "not rounds + reps"),
        ("12.5", "reps", {}, "whole number"),
        ("-3", "reps", {}, "whole number"),
        ("heavy", "load", {}, "not a load"),
        ("100 stone", "load", {}, "not a load"),
        ("0 kg", "load", {}, "zero"),
        ("far", "distance", {}, "not a distance"),
        ("maybe", "pass_fail", {}, "pass or fail"),
        ("99999999999999", "reps", {}, "far too large"),
        ("1,000 kg", "load", {}, "could mean 1000 or 1.000"),  # a thousand, or one?
        ("1.000 kg", "load", {}, "could mean 1000 or 1.000"),
        ("2,345 m", "distance", {}, "could mean 2345 or 2.345"),
        ("1.000,5 kg", "load", {}, "without thousands separators"),
        ("1,000.5 kg", "load", {}, "without thousands separators"),
        ("1,5 reps", "reps", {}, "not a whole number"),
        ("CAP+0", "time", {"total_reps": 90, "time_cap_seconds": 600}, "enter the finishing time"),
    ],
)
def test_rejects_what_does_not_parse_with_a_clear_message(text, score_type, kwargs, message):
    with pytest.raises(ValidationError) as caught:
        parse_score(text, score_type, **kwargs)
    assert message in " ".join(caught.value.messages)


@pytest.mark.parametrize(
    ("value", "score_type", "shown"),
    [
        (754_000, "time", "12:34"),
        (3_723_000, "time", "1:02:03"),
        (754_500, "time", "12:34.5"),
        (500_012, "rounds_reps", "5 + 12"),
        (700_000, "rounds_reps", "7 + 0"),  # always rounds and reps: a bare 7 could be either
        (102_500, "load", "102.5 kg"),
        (2_345_000, "distance", "2345 m"),
        (1, "pass_fail", "pass"),
        (42, "calories", "42 cal"),
    ],
)
def test_formats_stored_scores_for_display(value, score_type, shown):
    assert format_score(value, score_type) == shown


def test_capped_results_show_reps_short():
    assert format_score(None, "time", status="capped", reps_completed=75, total_reps=90) == "CAP+15"


def test_time_round_trip():
    for text in ("0:01", "9:59", "59:59", "1:00:00"):
        assert format_score(parse_time_ms(text), "time") == text


@pytest.mark.parametrize(
    ("value", "scheme", "shown"),
    [(431_000, "time", "7:11"), (45, "reps", "45 reps"), (None, "time", ""), (0, "reps", "0 reps"), (12, "none", "")],
)
def test_tiebreaks_show_in_their_own_unit(value, scheme, shown):
    assert format_tiebreak(value, scheme) == shown


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("20", 1200), ("20 min", 1200), ("20m", 1200), ("7:30", 450), ("1:00:00", 3600), ("90s", 90), ("12:00", 720)],
)
def test_a_time_cap_is_minutes_unless_written_m_ss(text, seconds):
    assert parse_time_cap(text) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ten", "not a time cap"),
        ("0", "whole number of seconds"),
        ("7:30.5", "whole number of seconds"),
        ("25:00:00", "at most 24 hours"),
        ("99999999999999s", "far too large"),
        ("12.5", "Did you mean"),
    ],
)
def test_a_time_cap_that_cannot_be_one_is_refused(text, message):
    with pytest.raises(ValidationError) as caught:
        parse_time_cap(text)
    assert message in " ".join(caught.value.messages)
