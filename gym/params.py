"""Query-string values read safely: what a visitor types in a URL is never trusted to be well formed."""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Mapping

from django.http import Http404

_ID = re.compile(r"^[0-9]{1,18}$")
#: Dates a gym's programming can mean (the rest is a typo or a probe).
_FIRST_DAY, _LAST_DAY = datetime.date(1900, 1, 1), datetime.date(2999, 12, 31)


def text_param(params: Mapping[str, str], name: str, *, max_length: int = 100) -> str:
    """A search text: control characters (NUL included, which PostgreSQL refuses) dropped, trimmed, bounded."""
    value = params.get(name, "")
    value = "".join(ch for ch in value if unicodedata.category(ch) != "Cc")
    return value.strip()[:max_length]


def id_param(params: Mapping[str, str], name: str) -> int | None:
    """A row id from the query string; None when absent, 404 when it cannot be one."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if not _ID.match(value):
        raise Http404(f"no such {name}")
    return int(value)


def date_param(params: Mapping[str, str], name: str) -> datetime.date | None:
    """A date (YYYY-MM-DD) from the query string; None when absent, 404 when it cannot be one."""
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise Http404(f"no such {name}") from None
    if not (_FIRST_DAY <= day <= _LAST_DAY) or len(value) != 10:
        raise Http404(f"no such {name}")
    return day


def path_day(text: str) -> datetime.date:
    """A day from a URL's path (YYYY-MM-DD: a class's or a programming day's address); 404 when it cannot be one."""
    day = date_param({"day": text}, "day")
    if day is None:
        raise Http404("no such day")
    return day


def monday_of(day: datetime.date) -> datetime.date:
    """The Monday of ``day``'s week (a gym's week, its programming's and its classes', starts on Monday)."""
    return day - datetime.timedelta(days=day.weekday())
