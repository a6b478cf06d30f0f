"""The guard that keeps local data seeds away from every remote database.

Every path that could apply ``seeds/…`` goes through :func:`assert_seeding_allowed`: it
refuses unless every host the target names is this machine and FITBUDDY_ENV is local or test.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings

SEEDABLE_ENVIRONMENTS = frozenset({"local", "test"})
LOCAL_HOSTNAMES = frozenset({"localhost", "localhost.", "ip6-localhost", "ip6-loopback"})


class SeedGuardError(Exception):
    """Seeds were about to reach a database that is not local, or outside local/test."""


def _redact_url(target: str) -> str:
    return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:****@", target)


def hosts_of(target: str) -> list[str]:
    """Every host a connection target names: a bare host, a libpq or JDBC URL, or a socket path.

    URLs may name several hosts (``host1,host2``) and libpq lets ``?host=`` / ``?hostaddr=``
    override the authority, so all of them count.
    """
    target = (target or "").strip()
    if "://" not in target:
        return [target]
    url = target[len("jdbc:") :] if target.lower().startswith("jdbc:") else target
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    hosts = []
    for item in netloc.split(","):
        if item.startswith("["):
            hosts.append(item[1:].split("]", 1)[0])
        else:
            hosts.append(unquote(item.rsplit(":", 1)[0] if item.count(":") == 1 else item))
    query = parse_qs(parts.query, keep_blank_values=True)
    for key in ("host", "hostaddr"):
        for value in query.get(key, []):
            hosts.extend(value.split(","))
    return hosts


def is_local_host(host: str) -> bool:
    """True for this machine only: localhost, a loopback address, or a Unix socket folder."""
    host = host.strip()
    if host == "" or host.startswith("/"):
        return True  # libpq: no host, or a Unix-domain socket directory
    if host.lower() in LOCAL_HOSTNAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def assert_seeding_allowed(target: str, *, environment: str | None = None) -> None:
    """Raise :class:`SeedGuardError` unless seeds may be applied to ``target``."""
    environment = environment or settings.FITBUDDY_ENV
    shown = _redact_url(target) or "(default host)"
    if environment not in SEEDABLE_ENVIRONMENTS:
        raise SeedGuardError(
            f"refusing to apply local data seeds to {shown}: FITBUDDY_ENV is {environment!r}; "
            f"seeds are applied only when it is local or test"
        )
    remote = [h for h in hosts_of(target) if not is_local_host(h)]
    if remote:
        raise SeedGuardError(
            f"refusing to apply local data seeds to {shown}: host {', '.join(remote)!s} is not "
            f"this machine; seeds are applied only to localhost"
        )
