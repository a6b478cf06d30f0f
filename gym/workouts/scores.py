"""Scores as people type them, to and from the exact integers FitBuddy stores (docs/domain.md).

for time      "12:34", "1:02:03", "12:34.5", "95s", "CAP+15" (capped, 15 reps short)  -> ms
AMRAP         "5+12", "5 rounds + 12 reps", "5"                                       -> rounds*100000 + reps
reps, cal,    "150", "150 reps", "42 cal", "87 points"                                -> the integer
points
load          "102.5 kg", "225 lb", "102.5" (kg)                                      -> grams
distance      "2345 m", "5 km", "1.5 mi", "2345" (m)                                  -> millimetres
pass / fail   "pass", "fail", "yes", "no"                                             -> 1 / 0
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

ROUND = 100_000
LB_GRAMS = Decimal("453.59237")
MAX_VALUE = 9_999_999_999_999


@dataclass(frozen=True)
class Score:
    status: str  # finished | capped
    value: int | None
    reps_completed: int | None = None


def _number(text: str, what: str) -> Decimal:
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ValidationError(f"{what} {text!r} is not a number.") from None
    if number < 0 or not number.is_finite():
        raise ValidationError(f"{what} cannot be negative.")
    return number


def _bounded(value: int, what: str) -> int:
    if value > MAX_VALUE:
        raise ValidationError(f"That {what} is far too large.")
    return value


TIME_RE = re.compile(r"^(?:(?P<h>\d+):)?(?P<m>\d{1,3}):(?P<s>\d{1,2}(?:\.\d{1,3})?)$")
SECONDS_RE = re.compile(r"^(?P<s>\d+(?:\.\d{1,3})?)\s*(?:s|sec|secs|seconds)?$")
CAP_SHORT_RE = re.compile(r"^cap\s*\+\s*(?P<n>\d+)$")
CAP_DONE_RE = re.compile(r"^(?:cap(?:ped)?\s*(?:at)?\s*)?(?P<n>\d+)\s*reps?$")


def parse_time_ms(text: str) -> int:
    """'12:34', '1:02:03', '12:34.5' or '95s' to milliseconds."""
    text = text.strip().lower()
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


def parse_score(
    text: str,
    score_type: str,
    *,
    total_reps: int | None = None,
    reps_per_round: int | None = None,
    time_cap_seconds: int | None = None,
) -> Score:
    """Parse what someone typed for a workout of ``score_type``; ValidationError says what is wrong."""
    raw = (text or "").strip()
    low = raw.lower()
    if score_type == "none":
        return Score("finished", None)
    if not raw:
        raise ValidationError("Enter a score.")
    if score_type == "time":
        for pattern, short in ((CAP_SHORT_RE, True), (CAP_DONE_RE, False)):
            match = pattern.match(low)
            if match and (short or low.startswith("cap") or "rep" in low):
                if not time_cap_seconds:
                    raise ValidationError("This workout has no time cap, so a result cannot be capped.")
                n = int(match["n"])
                if short:
                    if not total_reps:
                        raise ValidationError(
                            "CAP+N needs the workout's total reps; enter the reps completed instead "
                            "(e.g. 'CAP 85 reps')."
                        )
                    if n >= total_reps:
                        raise ValidationError(f"CAP+{n}: the workout has only {total_reps} reps.")
                    n = total_reps - n
                elif total_reps and n >= total_reps:
                    raise ValidationError(f"{n} reps would finish the workout ({total_reps} reps); enter the time.")
                return Score("capped", None, n)
        ms = parse_time_ms(raw)
        if ms == 0:
            raise ValidationError("A time of zero is not a result.")
        if time_cap_seconds and ms > time_cap_seconds * 1000:
            raise ValidationError(
                f"{raw} is over the {time_cap_seconds // 60}:{time_cap_seconds % 60:02d} time cap; "
                "enter it as capped, e.g. CAP+15."
            )
        return Score("finished", ms)
    if score_type == "rounds_reps":
        match = re.match(r"^(?P<r>\d+)\s*(?:rounds?|rds?|r)?\s*(?:\+\s*(?P<p>\d+)\s*(?:reps?)?)?$", low)
        if not match:
            raise ValidationError(f"{raw!r} is not rounds + reps: write e.g. 5+12.")
        rounds, reps = int(match["r"]), int(match["p"] or 0)
        if reps_per_round and reps >= reps_per_round:
            raise ValidationError(f"{raw}: a round has {reps_per_round} reps, so extra reps must be below that.")
        if reps >= ROUND:
            raise ValidationError(f"{raw}: too many extra reps.")
        return Score("finished", _bounded(rounds * ROUND + reps, "score"))
    if score_type in ("reps", "calories", "points"):
        unit = {"reps": r"(?:reps?)?", "calories": r"(?:cals?|calories|kcal)?", "points": r"(?:pts?|points?)?"}
        match = re.match(rf"^(?P<n>[\d,]+)\s*{unit[score_type]}$", low)
        if not match:
            raise ValidationError(f"{raw!r} is not a whole number of {score_type}.")
        return Score("finished", _bounded(int(_number(match["n"], "The score")), "score"))
    if score_type == "load":
        match = re.match(r"^(?P<n>[\d.,]+)\s*(?P<u>kg|kgs|kilos?|lb|lbs|pounds?)?$", low)
        if not match:
            raise ValidationError(f"{raw!r} is not a load: write e.g. 102.5 kg or 225 lb.")
        number = _number(match["n"], "The load")
        grams = number * (LB_GRAMS if (match["u"] or "kg").startswith(("lb", "pound")) else 1000)
        if grams == 0:
            raise ValidationError("A load of zero is not a result.")
        return Score("finished", _bounded(int(grams.to_integral_value()), "load"))
    if score_type == "distance":
        match = re.match(r"^(?P<n>[\d.,]+)\s*(?P<u>m|meters?|metres?|km|mi|miles?)?$", low)
        if not match:
            raise ValidationError(f"{raw!r} is not a distance: write e.g. 2345 m, 5 km or 1.5 mi.")
        number = _number(match["n"], "The distance")
        unit = match["u"] or "m"
        factor = 1_000_000 if unit == "km" else 1_609_344 if unit.startswith("mi") else 1000
        return Score("finished", _bounded(int((number * factor).to_integral_value()), "distance"))
    if score_type == "pass_fail":
        if low in ("pass", "passed", "yes", "y", "1", "done"):
            return Score("finished", 1)
        if low in ("fail", "failed", "no", "n", "0"):
            return Score("finished", 0)
        raise ValidationError(f"{raw!r}: write pass or fail.")
    raise ValidationError(f"Unknown score type {score_type!r}.")


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
    status: str = "finished",
    reps_completed: int | None = None,
    total_reps: int | None = None,
) -> str:
    """Display form of a stored score (the inverse of :func:`parse_score`)."""
    if status == "capped":
        if total_reps and reps_completed is not None:
            return f"CAP+{total_reps - reps_completed}"
        return f"CAP {reps_completed} reps"
    if status in ("dnf", "dq", "withdrawn"):
        return status.upper()
    if value is None:
        return "—"
    if score_type == "time":
        return format_time_ms(value)
    if score_type == "rounds_reps":
        rounds, reps = divmod(value, ROUND)
        return f"{rounds}+{reps}" if reps else f"{rounds}"
    if score_type == "load":
        kg = Decimal(value) / 1000
        return f"{kg.normalize():f} kg"
    if score_type == "distance":
        return f"{(Decimal(value) / 1000).normalize():f} m"
    if score_type == "calories":
        return f"{value} cal"
    if score_type == "pass_fail":
        return "pass" if value else "fail"
    if score_type == "points":
        return f"{value} pts"
    return str(value)


def format_result(participation, workout) -> str:
    """A participation's score for display; it parses back to the same result (editing starts from it)."""
    return format_score(
        participation.score_value,
        workout.score_type,
        status=participation.status,
        reps_completed=participation.reps_completed,
        total_reps=workout.reps_per_round,
    )
