"""Validation of what staff type when onboarding an affiliate: slug, name, domain.

Everything is checked before anything is created, so bad input changes nothing.
"""

from __future__ import annotations

import ipaddress
import re

from django.core.exceptions import ValidationError

DATABASE_PREFIX = "fitbuddy_"
# PostgreSQL truncates identifiers past 63 bytes (NAMEDATALEN - 1); the database and role names
# are DATABASE_PREFIX + slug, so the slug may use what the prefix leaves.
MAX_IDENTIFIER_BYTES = 63
MAX_SLUG_LENGTH = MAX_IDENTIFIER_BYTES - len(DATABASE_PREFIX)
SLUG_RE = re.compile(r"^[a-z][a-z0-9_]*$")
RESERVED_SLUGS = frozenset(
    {
        "postgres",
        "template",
        "template0",
        "template1",
        "master",
        "public",
        "admin",
        "www",
        "api",
        "static",
        "affiliate_mgt",
        "affiliate-mgt",
        "fitbuddy",
        "fitbuddy_dev",
        "fitbuddy-dev",
        "dev",
        "test",
    }
)
RESERVED_DATABASES = frozenset({"postgres", "template0", "template1", "affiliate-mgt", "fitbuddy-dev"})
HOST_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def validate_slug(slug: str) -> str:
    if not isinstance(slug, str) or not slug:
        raise ValidationError("The slug is required.", code="required")
    if len(slug.encode()) > MAX_SLUG_LENGTH:
        raise ValidationError(
            f"The slug is {len(slug.encode())} bytes; at most {MAX_SLUG_LENGTH} are allowed so that its "
            f"database name ({DATABASE_PREFIX}<slug>) fits PostgreSQL's {MAX_IDENTIFIER_BYTES}-byte identifier limit.",
            code="too_long",
        )
    if not SLUG_RE.match(slug):
        raise ValidationError(
            f"Invalid slug {slug!r}: use lower-case letters a-z, digits and underscores, starting with a letter.",
            code="invalid",
        )
    if slug in RESERVED_SLUGS or database_name_for(slug) in RESERVED_DATABASES or slug.startswith("pg_"):
        raise ValidationError(f"The slug {slug!r} is reserved; choose another.", code="reserved")
    return slug


def validate_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError("The affiliate's name is required.", code="required")
    if len(name) > 200:
        raise ValidationError("The affiliate's name is longer than 200 characters.", code="too_long")
    if any(ord(c) < 32 for c in name):
        raise ValidationError("The affiliate's name contains control characters.", code="invalid")
    return name


def validate_domain(domain: str) -> str:
    """A host name without scheme, port or path, e.g. ``ironworks.localhost``; returned lower-cased."""
    host = (domain or "").strip().lower()
    if not host:
        raise ValidationError("The domain is required.", code="required")
    if host.endswith("."):
        host = host[:-1]
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        raise ValidationError(f"{domain!r} is an IP address; an affiliate needs a host name.", code="invalid")
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(HOST_LABEL_RE.match(label) for label in labels):
        raise ValidationError(
            f"Invalid host name {domain!r}: use letters, digits and hyphens in dot-separated labels "
            f"(e.g. ironworks.localhost), without scheme, port or path.",
            code="invalid",
        )
    return host


def database_name_for(slug: str) -> str:
    return f"{DATABASE_PREFIX}{slug}"


def role_name_for(slug: str) -> str:
    return f"{DATABASE_PREFIX}{slug}"
