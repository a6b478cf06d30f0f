"""The database backend of affiliate aliases: Django's PostgreSQL backend, plus one retry when an
affiliate role's password was rotated under a running process.

A login that fails for its password is tried once more with the alternatives
``credentials.role_password_alternatives`` gives: the secret fetched again from Secrets Manager
(after ``rotate_affiliate_credentials``), or the password derived under each of
``SECRET_KEY_FALLBACKS`` (after a ``DJANGO_SECRET_KEY`` rotation, until ``rekey_affiliate_roles``
has run). The password that works is kept for the alias's next connections.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from django.db.backends.postgresql import base

from affiliates.infra import credentials

logger = logging.getLogger(__name__)

#: The settings key (beside NAME, USER, …) that carries the role's secret reference.
SECRET_REF = "FITBUDDY_SECRET_REF"


def _password_rejected(exc: psycopg.OperationalError) -> bool:
    return "password authentication failed" in str(exc)


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
            raise
