"""No input ends in a 500: every page of the gym site and the command center, walked from the URL
resolver and the admin registry, as owner, coach and staff, with bad values in query strings and in
every field of every form a page shows. A refused form (the page shown again) changes no row."""

from __future__ import annotations

import re
from contextlib import contextmanager
from html.parser import HTMLParser

import psycopg
import pytest
from django.contrib import admin
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.urls import reverse

from affiliates.infra.targets import on_database, server_admin_target
from affiliates.models import Affiliate
from affiliates.routing.context import affiliate_context
from gym.workouts.models import ScoreType, Workout
from tests.conftest import client_for
from tests.factories import ParticipationFactory, WorkoutFactory, gym_login
from tests.gym.test_views import PUBLIC_ROUTES, URLCONF, gym_routes, urls

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

#: One value of each kind of bad input: every field of every form is tried with each (values alike in
#: kind, e.g. a NUL at the start or in the middle, or two numbers past a 32-bit integer, take one path).
BAD = [
    "a\x00b",  # a NUL byte
    "\x01\x02\x1b[31m\x7f",  # control characters
    "x" * 10_000,  # far too long
    "9" * 30,  # past any integer column
    "2147483648",  # just past a 32-bit integer
    "-3",  # negative
    "0",  # zero
    "NaN",  # a number that is not one
    "abc",  # letters where a number goes
    "2026-02-30",  # an impossible date
    "99999-12-31",  # a year past 9999
    "٣",  # another script's digit (Python's int() reads it as 3)
    "١٢:٣٤",  # a time in another script's digits
    "\u200f12\u200e",  # direction marks around a number
    "CAP 1000000000 reps",  # words around a huge number
    "Upper-Case.LOCALHOST",  # a host name in capitals
    "",  # nothing
]
#: One value of each kind, for the walks after the owner's (the same forms, other permissions).
BAD_KINDS = ["\x00", "x" * 10_000, "9" * 30, "-3", "abc", "2026-02-30", "٣", "\u200f12\u200e", "NaN", ""]
#: For query strings, the values that differ in kind (each page reads a few parameters, and each
#: one is tried with each of these).
GET_BAD = [
    "\x00",
    "a\x00b",
    "x" * 10_000,
    "9" * 30,
    "-3",
    "abc",
    "2026-02-30",
    "\u200f12\u200e",
    "99999-01-01",
    "999999999",
]
#: Query parameters the gym pages read.
GYM_PARAMS = ["q", "page", "show", "edit", "level", "gender", "start", "end", "class", "with"]
#: Django admin's own: a change list's search, page, ordering, errors flag and filters; an add or
#: change page's way back to its list and its popup flags.
CHANGELIST_PARAMS = [
    "q",
    "p",
    "o",
    "e",
    "status",
    "_changelist_filters",
    "created_at__gte",
    "created_at__year",
    "id__in",
]
FORM_PAGE_PARAMS = ["_changelist_filters", "_to_field", "_popup"]


class Forms(HTMLParser):
    """The POST forms of a page: their fields with the values the page gives them."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._form = {"action": a.get("action") or "", "fields": {}}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            values = self._form["fields"].setdefault(a["name"], [])
            if kind not in ("checkbox", "radio") or "checked" in a:
                values.append(a.get("value") or "")
        elif tag == "select" and a.get("name"):
            self._select = self._form["fields"].setdefault(a["name"], [])
            self._select_first = None
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if "selected" in a:
                self._select.append(value)
            elif self._select_first is None and value:
                self._select_first = value
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form["fields"][a["name"]] = [""]

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            if not self._select and self._select_first:
                self._select.append(self._select_first)
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form["fields"][self._textarea][0] += data


def post_forms(html: str) -> list[dict]:
    parser = Forms()
    parser.feed(html)
    # Logging out is not input to try: it would end the walk's session.
    return [f for f in parser.forms if f["fields"] and not f["action"].rstrip("/").endswith("logout")]


#: Sessions change with every login and message: not data a form writes.
SESSIONS = ("django_session",)


def _signatures(conn, schema: str, skip: tuple[str, ...] = ()) -> tuple:
    """Each table's row count and newest row version (``xmin``): any committed insert, update or delete
    changes one of them, an update that writes the same values included."""
    tables = [
        r[0]
        for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", [schema])
        if r[0] not in skip
    ]
    if not tables:
        return ()
    parts = [
        psycopg.sql.SQL("SELECT {}::text, count(*), max(xmin::text::bigint) FROM {}.{}").format(
            psycopg.sql.Literal(table), psycopg.sql.Identifier(schema), psycopg.sql.Identifier(table)
        )
        for table in tables
    ]
    return tuple(sorted(conn.execute(psycopg.sql.SQL(" UNION ALL ").join(parts)).fetchall()))


class Rows:
    """Signatures of every table of the gym's database and of the management database's own tables."""

    def __init__(self, affiliate: Affiliate):
        target = on_database(server_admin_target(affiliate.database_server), affiliate.database_name)
        self.gym = psycopg.connect(**target.conninfo(), autocommit=True)

    def snapshot(self) -> tuple:
        with connection.cursor() as cursor:
            own = _signatures(cursor.connection, "master")
            management = own + _signatures(cursor.connection, "public", skip=SESSIONS)
        return _signatures(self.gym, "master") + management

    def close(self):
        self.gym.close()


@contextmanager
def _reads_of_query_strings():
    """The query parameters the code reads while the block runs (all of them when it walks the whole
    query string, as the admin's change list does)."""
    read: set[str] = set()
    patched = {}

    def recording(name):
        original = getattr(QueryDict, name)

        def method(self, key, *args, **kwargs):
            read.add(key)
            return original(self, key, *args, **kwargs)

        return method

    def everything(name):
        original = getattr(QueryDict, name)

        def method(self, *args, **kwargs):
            read.add("*")
            return original(self, *args, **kwargs)

        return method

    for name in ("__getitem__", "get", "getlist", "__contains__"):
        patched[name] = getattr(QueryDict, name)
        setattr(QueryDict, name, recording(name))
    for name in ("items", "lists", "keys", "values", "__iter__", "dict", "copy", "urlencode"):
        patched[name] = getattr(QueryDict, name)
        setattr(QueryDict, name, everything(name))
    try:
        yield read
    finally:
        for name, original in patched.items():
            setattr(QueryDict, name, original)


def params_read(client: Client, url: str, candidates: list[str]) -> list[str]:
    """Of ``candidates``, the query parameters the page reads (a parameter it never reads cannot
    reach a 500, so bad values are tried only in those it does)."""
    with _reads_of_query_strings() as read:
        client.get(url, {name: "1" for name in candidates})
    return candidates if "*" in read else [name for name in candidates if name in read]


def walk(
    client: Client,
    pages: list[str],
    rows: Rows,
    *,
    params=lambda url: GYM_PARAMS,
    forms_on=lambda url: True,
    values: list[str] = BAD,
) -> list[str]:
    """GET each page with bad query values, then POST each of its forms (on pages ``forms_on``
    accepts) with each bad value in each field; returns what went wrong (a 500, or a refused form
    that changed a row)."""
    problems = []
    for url in pages:
        for param in params_read(client, url, params(url)):
            for value in GET_BAD:
                response = client.get(url, {param: value})
                if response.status_code >= 500:
                    problems.append(f"GET {url}?{param}={value[:20]!r}: {response.status_code}")
        page = client.get(url)
        if page.status_code != 200 or not forms_on(url):
            continue
        seen = set()
        for form in post_forms(page.content.decode()):
            action = form["action"] or url
            # Forms alike but for an id in their address (the library's "Add" on each benchmark)
            # are one form to try.
            alike = (re.sub(r"[0-9]+", "N", action), tuple(sorted(form["fields"])))
            if alike in seen:
                continue
            seen.add(alike)
            before = rows.snapshot()
            tried = set()
            for name in form["fields"]:
                # Fields alike but for their row in a formset (a workout's movements, an inline's rows)
                # take one path: the first row's stands for them all.
                kind = re.sub(r"-[0-9]+-", "-N-", name)
                if kind in tried:
                    continue
                tried.add(kind)
                for value in values:
                    response = client.post(action, {**form["fields"], name: value})
                    if response.status_code == 403:
                        break  # refused before the form is read (a role, the CSRF token): no other value differs
                    if response.status_code >= 500:
                        problems.append(f"POST {action} {name}={value[:20]!r}: {response.status_code}")
                    elif response.status_code == 200:  # refused: the form again, with its errors
                        if rows.snapshot() != before:
                            problems.append(f"POST {action} {name}={value[:20]!r}: refused, yet rows changed")
                            before = rows.snapshot()
                    else:  # accepted (a bad-looking value can be fine, e.g. a name in Arabic digits)
                        before = rows.snapshot()
    return problems


def gym_pages(gyms) -> list[str]:
    pages = list(urls(gyms).values())
    pages += [reverse(name, urlconf=URLCONF) for name in PUBLIC_ROUTES if not gym_routes()[name].pattern.converters]
    # A workout page with a result being edited shows the edit form.
    with affiliate_context(gyms.a):
        participation = ParticipationFactory(workout=gyms.fran_a, member=gyms.ann)
        # A capped workout with a tiebreak by reps and no reps per round: every field of the result form.
        chipper = WorkoutFactory(
            name="Chipper", score_type=ScoreType.TIME, time_cap_seconds=1200, tiebreak_scheme=Workout.Tiebreak.REPS
        )
    pages.append(f"{urls(gyms)['workouts:detail']}?edit={participation.pk}")
    pages.append(reverse("workouts:detail", kwargs={"workout_id": chipper.pk}, urlconf=URLCONF))
    return pages


#: Each walk in parts (every ``parts``-th page from ``part``), so the test processes share the long ones.
WALKS = [("owner_a", 0, 3), ("owner_a", 1, 3), ("owner_a", 2, 3), ("coach_a", 0, 2), ("coach_a", 1, 2)]
WALKS += [("athlete", 0, 1), ("staff", 0, 1)]


@pytest.mark.parametrize(("who", "part", "parts"), WALKS)
def test_no_bad_input_on_any_gym_page_ends_in_a_500_or_changes_a_row(gyms, who, part, parts):
    if who == "athlete":
        gyms.athlete = gym_login(gyms.a, "ann@a.test", "athlete", member=gyms.ann)
    client = client_for(gyms.a, getattr(gyms, who), raise_request_exception=False)
    rows = Rows(gyms.a)
    try:
        pages = gym_pages(gyms)[part::parts]
        problems = walk(client, pages, rows, values=BAD if who == "owner_a" else BAD_KINDS)
    finally:
        rows.close()
    assert not problems, "\n".join(problems)


def command_center_pages(gyms) -> list[str]:
    pages = ["/admin/", reverse("admin:affiliates_fleet"), reverse("admin:affiliates_login_help", args=[gyms.a.pk])]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        if model_admin.has_add_permission(_superuser_request(gyms)):
            pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk]))
    return pages


def _superuser_request(gyms):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = gyms.staff
    return request


@pytest.mark.parametrize("part", [0, 1])
def test_no_bad_input_in_the_command_center_ends_in_a_500_or_changes_a_row(gyms, part):
    client = Client(HTTP_HOST="admin.localhost", raise_request_exception=False)
    client.force_login(gyms.staff)
    rows = Rows(gyms.a)
    try:
        # Every page with bad query strings; the forms of FitBuddy's own models (auth's user and
        # group forms are Django's, and their permission lists make each post slow).
        problems = walk(
            client,
            command_center_pages(gyms)[part::2],  # in two halves, for the two test processes
            rows,
            params=lambda url: FORM_PAGE_PARAMS if url.endswith(("/add/", "/change/")) else CHANGELIST_PARAMS,
            forms_on=lambda url: "/admin/auth/" not in url,
            values=BAD_KINDS,
        )
    finally:
        rows.close()
    assert not problems, "\n".join(problems)
