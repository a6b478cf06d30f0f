"""The database backend of affiliate aliases: Django's PostgreSQL backend, plus one retry when an
affiliate role's password was rotated under a running process.

A login that fails for its password is tried once more with the alternatives
``credentials.role_password_alternatives`` gives: the secret fetched again from Secrets Manager
(after ``rotate_affiliate_credentials``), or the password derived under each of
``SECRET_KEY_FALLBACKS`` (after a ``DJANGO_SECRET_KEY`` rotation, until ``rekey_affiliate_roles``
has run). The password that works is kept for the alias's next connections.

When every password is refused, someone changed the role's password from inside (PostgreSQL lets any
role change its own): the login fails with :class:`RoleRefused`, and the worker is asked, once per
``ROLE_REPAIR_INTERVAL`` seconds per role, to set the password back with the provisioning login
(``affiliate_role_repair_task``, audited). The web process cannot do it itself: it holds no login
that may alter roles.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import psycopg
from django.db.backends.postgresql import base

from affiliates.errors import QueueUnavailable
from affiliates.infra import credentials, queue

logger = logging.getLogger(__name__)

#: The settings key (beside NAME, USER, …) that carries the role's secret reference.
SECRET_REF = "FITBUDDY_SECRET_REF"


#: How often one process asks the worker to repair one role's password.
ROLE_REPAIR_INTERVAL = 30.0
_repairs_asked: dict[str, float] = {}
_repairs_lock = threading.Lock()


class RoleRefused(psycopg.OperationalError):
    """An affiliate role refused every password FitBuddy knows for it: a repair has been asked for."""


#: How a refused password reads: PostgreSQL's words, and PgBouncer's (it checks the SCRAM proof itself).
PASSWORD_REFUSED = ("password authentication failed", "SASL authentication failed")


def _password_rejected(exc: psycopg.OperationalError) -> bool:
    return any(words in str(exc) for words in PASSWORD_REFUSED)


def _repair_ask(alias: str, role: str) -> None:
    """Queue the role's repair (at most once per interval in this process); never fails the request more."""
    now = time.monotonic()
    with _repairs_lock:
        if _repairs_asked.get(role, 0.0) > now:
            return
        _repairs_asked[role] = now + ROLE_REPAIR_INTERVAL
    affiliate_id = alias.removeprefix("affiliate_")
    if not affiliate_id.isdigit():
        return
    try:
        queue.send(queue.ROLE_REPAIR, int(affiliate_id))
        logger.error("affiliate role %s refused every known password: its repair is queued", role)
    except QueueUnavailable as exc:
        logger.error("affiliate role %s refused every known password; its repair could not be queued: %s", role, exc)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> psycopg.Connection[Any]:
        try:
            connection: psycopg.Connection[Any] = super().get_new_connection(conn_params)
            return connection
        except psycopg.OperationalError as exc:
            ref = self.settings_dict.get(SECRET_REF)
            if not ref or not _password_rejected(exc):
                raise
            for password in credentials.role_password_alternatives(self.settings_dict["USER"], secret_ref=ref):
                if password == conn_params.get("password"):
                    continue
                try:
                    connection = super().get_new_connection({**conn_params, "password": password})
                except psycopg.OperationalError as again:
                    if not _password_rejected(again):
                        raise
                    continue
                logger.warning("affiliate role %s: logged in with its rotated password", self.settings_dict["USER"])
                self.settings_dict["PASSWORD"] = password
                return connection
            _repair_ask(self.alias, self.settings_dict["USER"])
            raise RoleRefused(f"affiliate role {self.settings_dict['USER']} refused its password: {exc}") from exc
