"""Affiliate database credentials, kept out of the management database and out of logs.

An affiliate role's password is derived (HMAC-SHA256) from the deployment's secret key and the
role name, so nothing needs storing: the registry keeps only a reference (``secret_ref``)
saying how to obtain it. Passwords reach PostgreSQL as SCRAM-SHA-256 verifiers, so the
plain text never appears in a statement a server log could record.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from django.conf import settings

DERIVED_SECRET_REF = "derived:hmac-sha256:v1"
SCRAM_ITERATIONS = 4096


def role_password(role: str, *, secret_ref: str = DERIVED_SECRET_REF) -> str:
    if secret_ref != DERIVED_SECRET_REF:
        raise ValueError(f"unsupported secret reference {secret_ref!r}")
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"fitbuddy-affiliate-role:{role}".encode(), hashlib.sha256).hexdigest()


def scram_verifier(password: str, *, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802/7677)."""
    salt = salt or os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"
