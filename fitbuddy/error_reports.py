"""What Django's error pages and error mails may show: never a password, a secret or a conninfo.

Django's ``SafeExceptionReporterFilter`` hides settings whose names look secret, but shows every
local variable of every frame of a traceback as it is. A failed connection to an affiliate database
has, in its frames, the alias's ``settings_dict`` (with the role's password), psycopg's
``conn_params``/``kwargs`` and the conninfo string (``… password=…``), and ``request.META`` can
hold ``DATABASE_URL`` under ``runserver``. :class:`SecretsFilter` (``DEFAULT_EXCEPTION_REPORTER_FILTER``)
cleanses all of them: names that look secret, dictionaries by their keys at any depth, and any
text (a conninfo, a URL, an object's repr) by what it says and by the passwords the process knows.
"""

from __future__ import annotations

import re
from collections.abc import ItemsView, Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter

SUBSTITUTE = "********************"

#: Names of settings, META entries, dictionary keys and local variables whose values are hidden.
HIDDEN = re.compile(
    r"API|AUTH|TOKEN|KEY|SECRET|PASS|PWD|SIGNATURE|HTTP_COOKIE|CREDENTIAL|CONNINFO|DSN|DATABASE_URL|"
    r"REDIS_URL|BROKER_URL|RESULT_BACKEND|SSLCERT|SSLKEY|PRIVATE",
    flags=re.IGNORECASE,
)
#: ``password=…`` in a conninfo or a command line (quoted or not), and ``"password": "…"`` in a repr.
#: Every repetition before the value is bounded: these run on every log line, and text an attacker sends
#: (a path, a header) reaches them; an unbounded one made a 16 KB path cost a second (quadratic).
_ASSIGNED = re.compile(
    r"""(?P<name>(?:pass(?:word)?|passwd|pwd|secret|token|api[_-]?key)\w{0,64}['"]?\s{0,8}[:=]\s{0,8})"""
    r"""(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s,;&)}\]]+)""",
    flags=re.IGNORECASE,
)
#: A URL's password: ``scheme://user:password@host``.
_URL_PASSWORD = re.compile(
    r"(?P<head>[a-z][a-z0-9+.-]{0,31}://[^:/@\s]{0,256}:)(?P<value>[^@\s]{1,1024})(?P<tail>@)", re.IGNORECASE
)

#: A whiteboard link's token (``/tv/<token>/``, gym/leaderboards/whiteboard_links.py): the path is its key.
_WHITEBOARD_TOKEN = re.compile(r"(?P<head>/tv/)(?P<value>[A-Za-z0-9_-]{8,128})")


def known_secrets() -> list[str]:
    """The passwords this process connects with (every alias's, its OPTIONS' too) and its secret key."""
    from django.db import connections

    found = {settings.SECRET_KEY}
    for alias in list(connections.settings):
        found.update(_secret_values(connections.settings[alias]))
    for wrapper in connections.all(initialized_only=True):
        found.update(_secret_values(wrapper.settings_dict))
    return sorted((s for s in found if isinstance(s, str) and len(s) >= 4), key=len, reverse=True)


def _secret_values(values: Any) -> Iterable[str]:
    if isinstance(values, dict):
        for key, value in values.items():
            if isinstance(value, str) and HIDDEN.search(str(key)):
                yield value
            else:
                yield from _secret_values(value)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every password it carries replaced: assigned ones, URL ones, and known ones."""
    text = _ASSIGNED.sub(lambda m: m.group("name") + SUBSTITUTE, text)
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + SUBSTITUTE + m.group("tail"), text)
    text = _WHITEBOARD_TOKEN.sub(lambda m: m.group("head") + SUBSTITUTE, text)
    for secret in secrets:
        text = text.replace(secret, SUBSTITUTE)
    return text


class Scrubbed:
    """A value shown by its cleansed repr (the error page prints ``repr``)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class SecretsFilter(SafeExceptionReporterFilter):
    """Django's filter, hiding more names and cleansing values as well as names."""

    hidden_settings = HIDDEN

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)
        return self._cleanse_value(cleansed, known_secrets())

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: Any) -> ItemsView[str, Any]:
        secrets = known_secrets()
        shown: dict[str, Any] = {}
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            if value != self.cleansed_substitute and HIDDEN.search(str(name)):
                value = self.cleansed_substitute
            elif isinstance(value, dict):
                value = super().cleanse_setting("", value)
            shown[name] = self._cleanse_value(value, secrets)
        return shown.items()

    def _cleanse_value(self, value: Any, secrets: list[str]) -> Any:
        """``value`` itself when its repr gives nothing away, else its repr cleansed."""
        if value is None or isinstance(value, bool | int | float):
            return value
        try:
            text = str(value) if isinstance(value, str) else repr(value)
        except Exception:  # an object whose repr fails: shown as Django would, by its type
            return value
        cleansed = scrub(text, secrets)
        if cleansed == text:
            return value
        return cleansed if isinstance(value, str) else Scrubbed(cleansed)
