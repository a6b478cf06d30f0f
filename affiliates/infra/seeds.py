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
        return target.split(",")  # libpq takes a comma-separated host list here too
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


#: A Unix-domain socket folder: an absolute path, nothing that could smuggle another setting in.
SOCKET_DIR_RE = re.compile(r"^/[A-Za-z0-9._/-]*$")
#: Connection settings that name hosts the guard cannot see (a service file's entry).
HIDDEN_HOST_SETTINGS = ("service", "servicefile")


def _hidden_host_settings(target: str) -> str:
    """The first setting in a URL's query (or a keyword conninfo) that names hosts out of sight."""
    target = (target or "").strip()
    if "://" in target:
        query = parse_qs(urlsplit(target).query, keep_blank_values=True)
        keys = {key.lower() for key in query}
    else:
        keys = {item.split("=", 1)[0].strip().lower() for item in target.split() if "=" in item}
    found = [f"{key}=" if "://" not in target else f"?{key}=" for key in HIDDEN_HOST_SETTINGS if key in keys]
    return found[0] if found else ""


def is_local_host(host: str) -> bool:
    """True for this machine only: localhost, a loopback address, or a Unix socket folder."""
    if host != host.strip():
        return False
    if host == "":
        return True  # libpq: no host, the default socket
    if host.startswith("/"):
        return bool(SOCKET_DIR_RE.match(host))
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
    hidden = _hidden_host_settings(target)
    if hidden:
        raise SeedGuardError(
            f"refusing to apply local data seeds to {shown}: {hidden} names hosts from a service file, "
            f"which cannot be proved to be this machine; name the host instead"
        )
    remote = [h for h in hosts_of(target) if not is_local_host(h)]
    if remote:
        raise SeedGuardError(
            f"refusing to apply local data seeds to {shown}: host {', '.join(remote)!s} is not "
            f"this machine; seeds are applied only to localhost"
        )
