"""Reads of a gym's members (the current affiliate's database)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import CharField, Func, QuerySet, Value
from django.db.models.functions import Concat

from gym.members.models import GymEvent, Member
from gym.members.spreadsheet import cell_safe

EXPORT_HEADER = ["first_name", "last_name", "email", "gender", "birth_date", "joined_on", "active"]


class Unaccent(Func):
    """PostgreSQL's unaccent (V4): "Ólafsdóttir" reads "Olafsdottir"."""

    function = "unaccent"
    output_field = CharField()


def member_search(*, query: str = "", include_inactive: bool = False) -> QuerySet[Member]:
    """Members whose full name or email contains ``query``, ignoring case and accents (active ones, drop-ins
    left out, unless told otherwise: ``include_inactive`` lists both)."""
    members = Member.objects.all()
    query = " ".join(query.split())
    if query:
        haystack = Unaccent(
            Concat("first_name", Value(" "), "last_name", Value(" "), "email", output_field=CharField())
        )
        members = members.annotate(search_text=haystack).filter(search_text__icontains=Unaccent(Value(query)))
    if not include_inactive:
        members = members.filter(is_active=True, kind=Member.Kind.MEMBER)
    return members


def member_export_rows() -> Iterator[list[str]]:
    """Every member as a CSV row (header first), each cell formula-safe; streamed from the database."""
    yield EXPORT_HEADER
    for m in Member.objects.order_by("last_name", "first_name", "id").iterator():
        yield [
            cell_safe(v)
            for v in (
                m.first_name,
                m.last_name,
                m.email,
                m.get_gender_display(),
                m.birth_date,
                m.joined_on,
                "yes" if m.is_active else "no",
            )
        ]


def recent_events(*, limit: int = 200) -> list[GymEvent]:
    """The gym's latest events (deletions, deactivations), newest first."""
    return list(GymEvent.objects.order_by("-at", "-id")[:limit])
