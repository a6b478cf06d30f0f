"""Scores as people type them, to and from the exact integers FitBuddy stores (docs/domain.md).

for time      "12:34", "1:02:03", "12:34.5", "95s", "CAP+15" (capped, 15 reps short)  -> ms
              ("12.34" is refused: did they mean 12:34?)
AMRAP         "5+12", "5 rounds + 12 reps", "5 rounds"; a bare "117" is reps when a   -> rounds*100000 + reps
              round's reps are known (3 + 27 for 30-rep rounds), else rounds
reps, cal,    "150", "150 reps", "42 cal", "87 points"                                -> the integer
points
load          "102.5 kg", "225 lb", "102.5" (kg)                                      -> grams
distance      "2345 m", "5 km", "1.5 mi", "2345" (m)                                  -> millimetres
pass / fail   "pass", "fail", "yes", "no"                                             -> 1 / 0
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError

from gym.workouts.models import Participation, ScoreType, Workout

Status = Participation.Status

ROUND = 100_000
LB_GRAMS = Decimal("453.59237")
MAX_VALUE = 9_999_999_999_999
#: The most reps a result can record (participation.reps_completed's CHECK).
MAX_REPS = 999_999_999


@dataclass(frozen=True)
class Score:
    status: str  # Participation.Status: FINISHED or CAPPED
    value: int | None
    reps_completed: int | None = None


WHOLE_RE = re.compile(r"^(?:\d+|\d{1,3}(?:,\d{3})+)$", re.ASCII)  # 1050 or 1,050
DECIMAL_RE = re.compile(r"^(?P<int>\d+)(?:(?P<sep>[.,])(?P<frac>\d+))?$", re.ASCII)


def _whole(text: str, what: str) -> Decimal:
    """A whole count: digits, or digits grouped in thousands by commas (a count has no decimals)."""
    if not WHOLE_RE.match(text):
        raise ValidationError(f"{what} {text!r} is not a whole number: write e.g. 150 or 1050.")
    return Decimal(text.replace(",", ""))


def _decimal(text: str, what: str, example: str) -> Decimal:
    """A measure with a decimal point or a decimal comma (102.5 or 102,5), never a thousands separator.

    One separator followed by exactly three digits (1,000 or 1.000) reads as a thousand in some
    countries and as one in others: refused, with how to write it.
    """
    match = DECIMAL_RE.match(text)
    if not match:
        raise ValidationError(
            f"{what} {text!r} is not a number: write it without thousands separators, with a decimal point "
            f"or comma, e.g. {example}."
        )
    if match["sep"] and len(match["frac"]) == 3:
        whole, frac = match["int"], match["frac"]
        raise ValidationError(
            f"{what} {text!r} could mean {whole}{frac} or {whole}.{frac}: write it as one of those "
            "(no thousands separators)."
        )
    return Decimal(f"{match['int']}.{match['frac']}" if match["sep"] else match["int"])


def _bounded(value: int, what: str) -> int:
    if value > MAX_VALUE:
        raise ValidationError(f"That {what} is far too large.")
    return value


TIME_RE = re.compile(r"^(?:(?P<h>\d+):)?(?P<m>\d{1,3}):(?P<s>\d{1,2}(?:\.\d{1,3})?)$")
SECONDS_RE = re.compile(r"^(?P<s>\d+(?:\.\d{1,3})?)\s*(?P<unit>s|sec|secs|seconds)?$")
#: "12.34" or "12,34" with no unit: minutes and seconds written with the wrong separator, or seconds?
DECIMAL_TIME_RE = re.compile(r"^(?P<m>\d+)[.,](?P<s>\d+)$", re.ASCII)
CAP_SHORT_RE = re.compile(r"^cap\s*\+\s*(?P<n>\d+)$")
CAP_DONE_RE = re.compile(r"^(?:cap(?:ped)?\s*(?:at)?\s*)?(?P<n>\d+)\s*reps?$")


TIEBREAK_REPS_RE = re.compile(r"^\d{1,9}$", re.ASCII)


def parse_reps(text: str) -> int:
    """A whole, non-negative number of reps (a tiebreak by reps), e.g. '45'."""
    text = text.strip()
    if not TIEBREAK_REPS_RE.match(text):
        raise ValidationError(f"{text[:20]!r} is not a number of reps: write a whole number, e.g. 45.")
    return int(text)


def parse_time_ms(text: str) -> int:
    """'12:34', '1:02:03', '12:34.5' or '95s' to milliseconds.

    A number with a decimal point or comma and no unit ('12.34') is refused with a question: it is
    12:34 written with the wrong separator far more often than 12.34 seconds (written '12.34s').
    """
    text = text.strip().lower()
    decimal = DECIMAL_TIME_RE.match(text)
    if decimal:
        guess = f"{int(decimal['m'])}:{decimal['s'][:2]:0<2}"
        raise ValidationError(f"{text!r}: Did you mean {guess}? Write times as m:ss (or h:mm:ss).")
    match = TIME_RE.match(text)
    if match:
        seconds = Decimal(match["s"])
        if seconds >= 60:
            raise ValidationError(f"{text!r}: seconds must be below 60 (write 13:05, not 12:65).")
        minutes = int(match["m"])
        if match["h"] is not None and minutes >= 60:
            raise ValidationError(f"{text!r}: minutes must be below 60 when hours are given.")
        total = (int(match["h"] or 0) * 3600 + minutes * 60) * 1000 + int(seconds * 1000)
        return _bounded(total, "time")
    match = SECONDS_RE.match(text)
    if match:
        return _bounded(int(Decimal(match["s"]) * 1000), "time")
    raise ValidationError(f"{text!r} is not a time: write minutes:seconds, e.g. 12:34 (or 1:02:03).")


CAP_MINUTES_RE = re.compile(r"^(?P<n>\d{1,6})\s*(?:m|min|mins|minutes?)?$", re.ASCII)
#: The longest time cap a coach can mean.
MAX_TIME_CAP_SECONDS = 24 * 3600


def parse_time_cap(text: str) -> int:
    """A workout's time cap, in whole seconds: minutes unless written m:ss or h:mm:ss.

    '20' and '20 min' are twenty minutes (a coach never means a 20-second cap), '7:30' is seven and
    a half minutes, '1:00:00' an hour; '90s' says seconds outright.
    """
    text = text.strip().lower()
    minutes = CAP_MINUTES_RE.match(text)
    if minutes:
        ms = int(minutes["n"]) * 60_000
    elif TIME_RE.match(text) or SECONDS_RE.match(text) or DECIMAL_TIME_RE.match(text):
        ms = parse_time_ms(text)
    else:
        raise ValidationError(f"{text[:20]!r} is not a time cap: write minutes (20) or minutes:seconds (7:30).")
    if ms < 1000 or ms % 1000:
        raise ValidationError("A time cap is a whole number of seconds, e.g. 12 (minutes) or 7:30.")
    if ms > MAX_TIME_CAP_SECONDS * 1000:
        raise ValidationError("A time cap is at most 24 hours (24:00:00).")
    return ms // 1000


@dataclass(frozen=True)
class WorkoutShape:
    """What parsing a score needs to know about its workout."""

    total_reps: int | None = None
    reps_per_round: int | None = None
    time_cap_seconds: int | None = None


def _parse_time(raw: str, low: str, shape: WorkoutShape) -> Score:
    """``12:34``, ``95s``; ``CAP+15`` (15 reps short of the workout) or ``CAP 85 reps`` when capped."""
    for pattern, short in ((CAP_SHORT_RE, True), (CAP_DONE_RE, False)):
        match = pattern.match(low)
        if match and (short or low.startswith("cap") or "rep" in low):
            return _capped(int(match["n"]), short=short, shape=shape)
    ms = parse_time_ms(raw)
    if ms == 0:
        raise ValidationError("A time of zero is not a result.")
    cap = shape.time_cap_seconds
    if cap and ms > cap * 1000:
        raise ValidationError(
            f"{raw} is over the {cap // 60}:{cap % 60:02d} time cap; enter it as capped, e.g. CAP+15."
        )
    return Score(Status.FINISHED, ms)


def _capped(n: int, *, short: bool, shape: WorkoutShape) -> Score:
    if n > MAX_REPS:
        raise ValidationError(f"{n} reps is far too many.")
    if not shape.time_cap_seconds:
        raise ValidationError("This workout has no time cap, so a result cannot be capped.")
    total = shape.total_reps
    if short:
        if not total:
            raise ValidationError(
                "CAP+N needs the workout's total reps; enter the reps completed instead (e.g. 'CAP 85 reps')."
            )
        if n >= total:
            raise ValidationError(f"CAP+{n}: the workout has only {total} reps.")
        if n == 0:
            raise ValidationError("CAP+0 means every rep was done: enter the finishing time instead.")
        n = total - n
    elif total and n >= total:
        raise ValidationError(f"{n} reps would finish the workout ({total} reps); enter the time.")
    return Score(Status.CAPPED, None, n)


ROUNDS_REPS_RE = re.compile(r"^(?P<r>\d+)\s*(?P<word>rounds?|rds?|r)?\s*(?:(?P<plus>\+)\s*(?P<p>\d+)\s*(?:reps?)?)?$")
BARE_REPS_RE = re.compile(r"^(?P<n>\d+)\s*(?:reps?)?$")


def _parse_rounds_reps(raw: str, low: str, shape: WorkoutShape) -> Score:
    """``5+12``, ``5 rounds + 12 reps``, ``7 rounds``; a bare ``117`` (or ``117 reps``) is a count of reps
    when a round's reps are known (3 + 27 in 30-rep rounds), and rounds when they are not."""
    bare = BARE_REPS_RE.match(low)
    if bare and shape.reps_per_round:
        rounds, reps = divmod(int(bare["n"]), shape.reps_per_round)
        return Score(Status.FINISHED, _bounded(rounds * ROUND + reps, "score"))
    if bare and "rep" in low:
        raise ValidationError(
            f"{raw}: the workout does not say how many reps make a round; write rounds+reps, e.g. 5+12."
        )
    match = ROUNDS_REPS_RE.match(low)
    if not match:
        raise ValidationError(f"{raw!r} is not rounds + reps: write e.g. 5+12.")
    rounds, reps = int(match["r"]), int(match["p"] or 0)
    if shape.reps_per_round and reps >= shape.reps_per_round:
        raise ValidationError(f"{raw}: a round has {shape.reps_per_round} reps, so extra reps must be below that.")
    if reps >= ROUND:
        raise ValidationError(f"{raw}: too many extra reps.")
    return Score(Status.FINISHED, _bounded(rounds * ROUND + reps, "score"))


def _counted(unit_pattern: str, noun: str) -> Callable[[str, str, WorkoutShape], Score]:
    """A parser for a whole number with an optional unit word (reps, calories, points)."""
    pattern = re.compile(rf"^(?P<n>[\d,.]+)\s*{unit_pattern}$")

    def parse(raw: str, low: str, shape: WorkoutShape) -> Score:
        match = pattern.match(low)
        if not match:
            raise ValidationError(f"{raw!r} is not a whole number of {noun}.")
        return Score(Status.FINISHED, _bounded(int(_whole(match["n"], "The score")), "score"))

    return parse


LOAD_RE = re.compile(r"^(?P<n>[\d.,]+)\s*(?P<u>kg|kgs|kilos?|lb|lbs|pounds?)?$")


def _parse_load(raw: str, low: str, shape: WorkoutShape) -> Score:
    """``102.5 kg``, ``225 lb``, ``102.5`` (kg) to grams."""
    match = LOAD_RE.match(low)
    if not match:
        raise ValidationError(f"{raw!r} is not a load: write e.g. 102.5 kg or 225 lb.")
    number = _decimal(match["n"], "The load", "102.5 or 102,5")
    grams = number * (LB_GRAMS if (match["u"] or "kg").startswith(("lb", "pound")) else 1000)
    if grams == 0:
        raise ValidationError("A load of zero is not a result.")
    return Score(Status.FINISHED, _bounded(int(grams.to_integral_value()), "load"))


DISTANCE_RE = re.compile(r"^(?P<n>[\d.,]+)\s*(?P<u>m|meters?|metres?|km|mi|miles?)?$")


def _parse_distance(raw: str, low: str, shape: WorkoutShape) -> Score:
    """``2345 m``, ``5 km``, ``1.5 mi``, ``2345`` (m) to millimetres."""
    match = DISTANCE_RE.match(low)
    if not match:
        raise ValidationError(f"{raw!r} is not a distance: write e.g. 2345 m, 5 km or 1.5 mi.")
    number = _decimal(match["n"], "The distance", "2.5 km or 2,5 km")
    unit = match["u"] or "m"
    factor = 1_000_000 if unit == "km" else 1_609_344 if unit.startswith("mi") else 1000
    return Score(Status.FINISHED, _bounded(int((number * factor).to_integral_value()), "distance"))


PASS_WORDS = frozenset({"pass", "passed", "yes", "y", "1", "done"})
FAIL_WORDS = frozenset({"fail", "failed", "no", "n", "0"})


def _parse_pass_fail(raw: str, low: str, shape: WorkoutShape) -> Score:
    if low in PASS_WORDS:
        return Score(Status.FINISHED, 1)
    if low in FAIL_WORDS:
        return Score(Status.FINISHED, 0)
    raise ValidationError(f"{raw!r}: write pass or fail.")


#: One small parser per score type: (what was typed, lower-cased, the workout's shape) -> Score.
PARSERS: dict[str, Callable[[str, str, WorkoutShape], Score]] = {
    ScoreType.TIME: _parse_time,
    ScoreType.ROUNDS_REPS: _parse_rounds_reps,
    ScoreType.REPS: _counted(r"(?:reps?)?", "reps"),
    ScoreType.CALORIES: _counted(r"(?:cals?|calories|kcal)?", "calories"),
    ScoreType.POINTS: _counted(r"(?:pts?|points?)?", "points"),
    ScoreType.LOAD: _parse_load,
    ScoreType.DISTANCE: _parse_distance,
    ScoreType.PASS_FAIL: _parse_pass_fail,
}


def parse_score(
    text: str,
    score_type: str,
    *,
    total_reps: int | None = None,
    reps_per_round: int | None = None,
    time_cap_seconds: int | None = None,
) -> Score:
    """Parse what someone typed for a workout of ``score_type``; ValidationError says what is wrong."""
    if score_type == ScoreType.NONE:
        return Score(Status.FINISHED, None)
    parser = PARSERS.get(score_type)
    if parser is None:
        raise ValidationError(f"Unknown score type {score_type!r}.")
    raw = (text or "").strip()
    if not raw:
        raise ValidationError("Enter a score.")
    return parser(raw, raw.lower(), WorkoutShape(total_reps, reps_per_round, time_cap_seconds))


def format_time_ms(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    text = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
    return f"{text}.{millis:03d}".rstrip("0") if millis else text


def format_score(
    value: int | None,
    score_type: str,
    *,
    status: str = Status.FINISHED,
    reps_completed: int | None = None,
    total_reps: int | None = None,
) -> str:
    """Display form of a stored score (the inverse of :func:`parse_score`)."""
    if status == Status.CAPPED:
        if total_reps and reps_completed is not None:
            return f"CAP+{total_reps - reps_completed}"
        return f"CAP {reps_completed} reps"
    if status in (Status.DNF, Status.DQ, Status.WITHDRAWN):
        return status.upper()
    if value is None:
        return "—"
    formatter = FORMATTERS.get(score_type)
    return formatter(value) if formatter else str(value)


def _format_rounds_reps(value: int) -> str:
    """Always both parts, ``5 + 17`` or ``5 + 0``: a bare number on a board could be rounds or reps."""
    rounds, reps = divmod(value, ROUND)
    return f"{rounds} + {reps}"


FORMATTERS: dict[str, Callable[[int], str]] = {
    ScoreType.TIME: format_time_ms,
    ScoreType.ROUNDS_REPS: _format_rounds_reps,
    ScoreType.LOAD: lambda grams: f"{(Decimal(grams) / 1000).normalize():f} kg",
    ScoreType.DISTANCE: lambda mm: f"{(Decimal(mm) / 1000).normalize():f} m",
    ScoreType.CALORIES: lambda value: f"{value} cal",
    ScoreType.PASS_FAIL: lambda value: "pass" if value else "fail",
    ScoreType.POINTS: lambda value: f"{value} pts",
}


def format_tiebreak(value: int | None, scheme: str) -> str:
    """A tiebreak in its own unit: a time (7:11) or a number of reps (45 reps); empty when there is none."""
    if value is None or scheme == "none":
        return ""
    return format_time_ms(value) if scheme == "time" else f"{value} reps"


def format_result(participation: Participation, workout: Workout) -> str:
    """A participation's score for display; it parses back to the same result (editing starts from it)."""
    return format_score(
        participation.score_value,
        workout.score_type,
        status=participation.status,
        reps_completed=participation.reps_completed,
        total_reps=workout.reps_per_round,
    )
