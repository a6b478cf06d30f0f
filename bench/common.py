"""Shared helpers for FitBuddy's benchmarks: Django set-up, timing, a scratch database."""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fitbuddy.settings")
os.environ.setdefault("FITBUDDY_ENV", "test")

import django  # noqa: E402

django.setup()

from django.db import connections  # noqa: E402

from affiliates.infra import databases  # noqa: E402
from affiliates.infra.targets import DatabaseTarget  # noqa: E402


def server_target(name: str = "postgres") -> DatabaseTarget:
    return DatabaseTarget.from_django(connections["default"].settings_dict, name=name)


@contextmanager
def timer():
    started = time.perf_counter()
    result = {}
    yield result
    result["seconds"] = time.perf_counter() - started


def scratch_name(prefix: str = "bench") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def drop(name: str) -> None:
    with databases.admin_connect(server_target()) as conn:
        databases.database_drop(conn, name)


def summary(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return f"median {statistics.median(ms):.0f} ms (min {min(ms):.0f}, max {max(ms):.0f}, n={len(ms)})"


#: One request's figures: p50 ms, p95 ms, and its queries as printed ("management + gym").
Figures = tuple[float, float, str]


def compare(label: str, base: tuple[str, Figures], other: tuple[str, Figures], *, width: int = 21) -> None:
    """Print a request's figures in the baseline gym and the other one, with the ratio of their p50s; fail when
    the query count differs (a request whose queries grow with the gym's size or history)."""
    (base_name, b), (other_name, o) = base, other
    same = b[2] == o[2]
    print(
        f"  {label:{width}s} {base_name} {b[0]:6.1f} / {b[1]:6.1f} ms, {b[2]:>6s} q;"
        f"  {other_name} {o[0]:6.1f} / {o[1]:6.1f} ms, {o[2]:>6s} q;"
        f"  ratio {other_name}/{base_name} p50 {o[0] / b[0]:.2f}x, queries {'same' if same else 'DIFFERENT'}"
    )
    assert same, f"{label}: the query count grows with the {other_name} gym ({b[2]} vs {o[2]})"


class _PostForms(HTMLParser):
    """Each POST form of a page: its action and its fields with the values a browser would send
    untouched (an input's value, a checked box, a select's selected or first option, a textarea's text)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._fields: dict[str, str] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._fields = {}
            self.forms.append((a.get("action", ""), self._fields))
        elif self._fields is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file", "image", "reset"):
                self._fields[a["name"]] = a.get("value", "on" if kind in ("checkbox", "radio") else "")
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select is not None:
            if "selected" in a or self._select not in self._fields:
                self._fields[self._select] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._fields[a["name"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._fields = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self._fields is not None:
            self._fields[self._textarea] += data


def post_form(html: str, action: str, *, needs: set[str]) -> dict[str, str]:
    """The fields of the page's POST form to ``action`` (or to the page itself), with their values.

    A benchmark fills in the fields it means and sends the rest as the page gave them; ``needs`` are
    the fields it fills, and a form without one of them is an error naming it, not a run of refusals.
    """
    parser = _PostForms()
    parser.feed(html)
    for form_action, fields in parser.forms:
        if form_action in ("", action) and needs <= set(fields):
            return fields
    found = [(form_action, sorted(fields)) for form_action, fields in parser.forms]
    raise RuntimeError(f"no POST form to {action} with the fields {sorted(needs)} on the page; forms: {found}")


def gym_login_make(affiliate, email: str, role: str, password: str, member=None):
    """A login of the gym, in its own database (owners, coaches and athletes live there)."""
    from affiliates.routing.context import affiliate_context
    from gym.accounts.models import GymLogin

    with affiliate_context(affiliate.pk):
        login = GymLogin(email=email, role=role, member=member)
        login.set_password(password)
        login.save()
    return login


def gym_client(affiliate, login):
    """A test client on the gym's host, logged in as ``login`` (a session of this gym, as its login page makes)."""
    from django.test import Client

    from affiliates.people import sessions
    from affiliates.routing.context import affiliate_context

    client = Client(HTTP_HOST=affiliate.domains.first().domain)
    with affiliate_context(affiliate.pk):
        client.force_login(login, backend="gym.accounts.backends.GymLoginBackend")
    session = client.session
    session[sessions.SITE_KEY] = f"gym:{affiliate.pk}"
    session.save()
    return client


def gym_session_key(affiliate, login) -> str:
    """A logged-in session key on the gym's site (for clients outside Django's test client)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from affiliates.people import sessions

    store = SessionStore()
    store[SESSION_KEY] = str(login.pk)
    store[BACKEND_SESSION_KEY] = "gym.accounts.backends.GymLoginBackend"
    store[HASH_SESSION_KEY] = login.get_session_auth_hash()
    store[sessions.SITE_KEY] = f"gym:{affiliate.pk}"
    store.create()
    return store.session_key
