"""Database credentials, kept out of the management database and out of logs.

The registry never holds a password, only a reference saying where to get one; this module
resolves every kind of reference (``login_resolve``):

    env:VAR                  an environment variable: a database URL (postgres://user:pw@…) or
                             JSON {"username": …, "password": …}
    aws-secretsmanager:ARN   a Secrets Manager secret, JSON {"username", "password", …} as RDS
                             writes its managed master secret
    derived:hmac-sha256:v1   an affiliate role's password derived (HMAC-SHA256) from the
                             deployment's secret key and the role name (local and test)

Resolved logins are cached in-process for ``SECRET_CACHE_SECONDS``; ``fresh=True`` fetches
again (after a rotation). Errors name the reference, never the secret. Passwords reach
PostgreSQL as SCRAM-SHA-256 verifiers, so the plain text never appears in a statement a server
log could record.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings

DERIVED_SECRET_REF = "derived:hmac-sha256:v1"
SCRAM_ITERATIONS = 4096
ENV_PREFIX = "env:"
SECRETS_MANAGER_PREFIX = "aws-secretsmanager:"


class SecretError(Exception):
    """A secret reference cannot be resolved; the message names the reference, never the secret."""


@dataclass(frozen=True)
class Login:
    username: str
    password: str = field(repr=False)


_cache: dict[str, tuple[float, Login]] = {}
_cache_lock = threading.Lock()


def login_resolve(ref: str, *, fresh: bool = False) -> Login:
    """The login a reference points at (cached for SECRET_CACHE_SECONDS unless ``fresh``)."""
    now = time.monotonic()
    if not fresh:
        cached = _cache.get(ref)
        if cached and cached[0] > now:
            return cached[1]
    if ref.startswith(ENV_PREFIX):
        login = _from_environment(ref)
    elif ref.startswith(SECRETS_MANAGER_PREFIX):
        login = _from_secrets_manager(ref)
    else:
        raise SecretError(f"unknown secret reference {ref!r} (expected env:VAR or aws-secretsmanager:ARN)")
    with _cache_lock:
        _cache[ref] = (now + settings.SECRET_CACHE_SECONDS, login)
    return login


def cache_clear() -> None:
    with _cache_lock:
        _cache.clear()


def _from_environment(ref: str) -> Login:
    name = ref.removeprefix(ENV_PREFIX)
    value = os.environ.get(name)
    if not value:
        raise SecretError(f"{ref}: the environment variable {name} is not set")
    if "://" in value:
        url = urlsplit(value)
        if not url.username:
            raise SecretError(f"{ref}: the URL in {name} names no user")
        return Login(unquote(url.username), unquote(url.password or ""))
    return _from_json(ref, value)


def _from_json(ref: str, text: str) -> Login:
    try:
        data = json.loads(text)
        return Login(str(data["username"]), str(data["password"]))
    except (ValueError, TypeError, KeyError):
        raise SecretError(f"{ref}: expected JSON with 'username' and 'password'") from None


def secrets_manager() -> Any:  # boto3 has no type hints
    """A Secrets Manager client (region from AWS_REGION; AWS_ENDPOINT_URL is honoured by boto3)."""
    import boto3

    return boto3.client("secretsmanager", region_name=settings.AWS_REGION)


def _from_secrets_manager(ref: str) -> Login:
    from botocore.exceptions import BotoCoreError, ClientError

    arn = ref.removeprefix(SECRETS_MANAGER_PREFIX)
    try:
        value = secrets_manager().get_secret_value(SecretId=arn)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise SecretError(f"{ref}: Secrets Manager answered {code}") from None
    except BotoCoreError as exc:
        raise SecretError(f"{ref}: Secrets Manager unreachable ({type(exc).__name__})") from None
    return _from_json(ref, value.get("SecretString") or "")


def role_password(role: str, *, secret_ref: str = DERIVED_SECRET_REF, fresh: bool = False) -> str:
    """An affiliate role's password, from its registry reference."""
    if secret_ref == DERIVED_SECRET_REF:
        return _derive(role, settings.SECRET_KEY)
    return login_resolve(secret_ref, fresh=fresh).password


def scram_verifier(password: str, *, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802/7677)."""
    salt = salt or os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _derive(role: str, key: str) -> str:
    return hmac.new(key.encode(), f"fitbuddy-affiliate-role:{role}".encode(), hashlib.sha256).hexdigest()


def role_password_alternatives(role: str, *, secret_ref: str) -> list[str]:
    """Passwords to try once more when a role's login is refused: the derived password under each of
    ``SECRET_KEY_FALLBACKS`` (a rotated secret key), or the secret fetched again (a rotated secret)."""
    if secret_ref == DERIVED_SECRET_REF:
        return [_derive(role, key) for key in getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    try:
        return [login_resolve(secret_ref, fresh=True).password]
    except SecretError:
        return []


# --- one Secrets Manager secret per affiliate role (production) ---

SECRET_NAME = "fitbuddy/affiliates/{role}"


def _new_password() -> str:
    import secrets

    return secrets.token_urlsafe(32)


def role_secret_ensure(role: str) -> str:
    """The reference of the role's own secret, created with a random password if it does not exist yet.

    Idempotent: a fixed client request token per role makes a retried create (after a crash or a
    lost answer) return the same secret instead of a second one.
    """
    import uuid

    from botocore.exceptions import BotoCoreError, ClientError

    name = SECRET_NAME.format(role=role)
    client = secrets_manager()
    try:
        created = client.create_secret(
            Name=name,
            ClientRequestToken=str(uuid.uuid5(uuid.NAMESPACE_URL, f"fitbuddy:{name}:v1")),
            SecretString=json.dumps({"username": role, "password": _new_password()}),
            Tags=[{"Key": "fitbuddy", "Value": "affiliate-role"}],
        )
        return f"{SECRETS_MANAGER_PREFIX}{created['ARN']}"
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceExistsException":
            raise SecretError(f"creating the secret {name}: {exc.response.get('Error', {}).get('Code')}") from None
    except BotoCoreError as exc:
        raise SecretError(f"Secrets Manager unreachable ({type(exc).__name__})") from None
    return f"{SECRETS_MANAGER_PREFIX}{client.describe_secret(SecretId=name)['ARN']}"


def role_secret_rotate(secret_ref: str, role: str) -> str:
    """Put a new random password in the role's secret; returns it (for the role's new verifier)."""
    from botocore.exceptions import BotoCoreError, ClientError

    if not secret_ref.startswith(SECRETS_MANAGER_PREFIX):
        raise SecretError(f"{secret_ref!r} is not a Secrets Manager secret")
    password = _new_password()
    try:
        secrets_manager().put_secret_value(
            SecretId=secret_ref.removeprefix(SECRETS_MANAGER_PREFIX),
            SecretString=json.dumps({"username": role, "password": password}),
        )
    except (BotoCoreError, ClientError) as exc:
        raise SecretError(f"{secret_ref}: the new password could not be stored ({type(exc).__name__})") from None
    with _cache_lock:
        _cache.pop(secret_ref, None)
    return password
