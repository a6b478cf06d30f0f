"""How a past-results file is read: the headers each field is guessed from, the words for a level and
a score type as SugarWOD and Wodify write them, and the score type a new workout gets from its scores.

docs/gym-site.md ("Switching to FitBuddy") says the same for people.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from gym.members.tabular import normal
from gym.workouts.models import ScalingLevel, ScoreType

FIELDS = {
    "date": "Date",
    "workout": "Workout",
    "athlete": "Athlete (full name)",
    "first_name": "First name",
    "last_name": "Last name",
    "email": "E-mail",
    "score": "Score",
    "level": "Level (Rx / Scaled)",
    "score_type": "Score type",
    "notes": "Notes",
}
SYNONYMS: dict[str, list[str]] = {
    "date": ["day", "performed on", "performed", "date performed", "workout date", "class date", "wod date"],
    "workout": ["title", "wod", "workout name", "workout title", "component", "component name", "wod name"],
    "athlete": ["athlete name", "name", "full name", "member", "member name", "client", "client name", "user"],
    "first_name": ["first", "firstname", "given name", "forename"],
    "last_name": ["last", "lastname", "surname", "family name"],
    "email": ["e-mail", "email address", "e-mail address", "mail", "athlete email", "client email"],
    "score": [
        "result",
        "best_result_display",
        "best result",
        "score display",
        "performance",
        "performance result",
        "result display",
    ],
    "level": ["rx_or_scaled", "rx or scaled", "rx/scaled", "is rx", "rx", "rxd", "scaling", "scaled", "division"],
    "score_type": ["scoring", "result type", "measure", "measurement", "score type", "scoring type"],
    "notes": ["note", "comments", "comment", "athlete notes"],
}

#: A level as files write it: SugarWOD's rx_or_scaled (RX, SCALED), Wodify's Is Rx (True/False).
LEVEL_WORDS = {
    "rx": ScalingLevel.RX,
    "rxd": ScalingLevel.RX,
    "asrx": ScalingLevel.RX,
    "asprescribed": ScalingLevel.RX,
    "true": ScalingLevel.RX,
    "yes": ScalingLevel.RX,
    "y": ScalingLevel.RX,
    "1": ScalingLevel.RX,
    "": ScalingLevel.RX,
    "rxplus": ScalingLevel.RX_PLUS,
    "scaled": ScalingLevel.SCALED,
    "scale": ScalingLevel.SCALED,
    "false": ScalingLevel.SCALED,
    "no": ScalingLevel.SCALED,
    "n": ScalingLevel.SCALED,
    "0": ScalingLevel.SCALED,
    "foundations": ScalingLevel.FOUNDATIONS,
    "foundation": ScalingLevel.FOUNDATIONS,
}


def level_of(text: str) -> str | None:
    """A level from the file's words (``Rx+`` before the plus is lost to ``normal``), None when unknown."""
    word = "".join(text.lower().split())
    return ScalingLevel.RX_PLUS if word == "rx+" else LEVEL_WORDS.get(normal(word))


#: A score type as files write it; '' (SugarWOD leaves timed workouts' empty) means read it from the scores.
SCORE_TYPE_WORDS = {
    "time": ScoreType.TIME,
    "fortime": ScoreType.TIME,
    "roundsreps": ScoreType.ROUNDS_REPS,
    "amrap": ScoreType.ROUNDS_REPS,
    "reps": ScoreType.REPS,
    "load": ScoreType.LOAD,
    "weight": ScoreType.LOAD,
    "calories": ScoreType.CALORIES,
    "cal": ScoreType.CALORIES,
    "meters": ScoreType.DISTANCE,
    "distance": ScoreType.DISTANCE,
    "points": ScoreType.POINTS,
    "checkbox": ScoreType.PASS_FAIL,
    "passfail": ScoreType.PASS_FAIL,
}
#: The score types a new workout may be given in the mapping step ('' reads them from the scores).
NEW_TYPES = [("", "Read it from the scores")] + [(v, label) for v, label in ScoreType.choices if v != ScoreType.NONE]


def score_type_of(text: str) -> str | None:
    """A score type from the file's word ('' when the file leaves it empty), None when FitBuddy has no such type."""
    word = normal(text)
    if not word:
        return ""
    return SCORE_TYPE_WORDS.get(word) or (word if word in ScoreType.values and word != ScoreType.NONE else None)


_KINDS = [
    ("time", re.compile(r"^(?:\d+:)?\d{1,3}:\d{2}(?:[.,]\d{1,3})?$|^cap\b", re.I)),
    ("rounds", re.compile(r"^\d+\s*(?:\+\s*\d+|rounds?\b|rds?\b)", re.I)),
    ("load", re.compile(r"^[\d.,]+\s*(?:kg|kgs|kilos?|lb|lbs|pounds?)$", re.I)),
    ("distance", re.compile(r"^[\d.,]+\s*(?:m|meters?|metres?|km|mi|miles?)$", re.I)),
    ("calories", re.compile(r"^\d+\s*(?:cals?|calories|kcal)$", re.I)),
    ("number", re.compile(r"^\d+(?:\s*reps?)?$", re.I)),
    ("pass", re.compile(r"^(?:pass|passed|fail|failed|done)$", re.I)),
]
#: The kinds of scores one score type takes ("number": a bare number, e.g. rounds written alone).
_TYPE_OF_KINDS = [
    ({"time"}, ScoreType.TIME),
    ({"rounds", "number"}, ScoreType.ROUNDS_REPS),
    ({"load", "number"}, ScoreType.LOAD),
    ({"distance", "number"}, ScoreType.DISTANCE),
    ({"calories", "number"}, ScoreType.CALORIES),
    ({"number"}, ScoreType.REPS),
    ({"pass"}, ScoreType.PASS_FAIL),
]


def infer_score_type(scores: Iterable[str]) -> str | None:
    """The score type a new workout's scores show: times, rounds + reps, loads (kg/lb), distances,
    calories, pass/fail, else bare numbers as reps; None when they mix kinds."""
    kinds = set()
    for score in scores:
        text = score.strip()
        kind = next((name for name, pattern in _KINDS if pattern.match(text)), "other")
        kinds.add(kind)
    if not kinds or "other" in kinds:
        return None
    for allowed, score_type in _TYPE_OF_KINDS:
        if kinds <= allowed and (kinds != {"number"} or allowed == {"number"}):
            return score_type
    return None
