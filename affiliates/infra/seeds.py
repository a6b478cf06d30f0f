"""The guard that keeps local data seeds away from every remote database.

Every path that could apply ``seeds/…`` goes through :func:`assert_seeding_allowed`: it refuses
unless FITBUDDY_ENV is local or test and every host the connection would reach is provably this
machine. "Provably" means the guard sees the host itself: a target that names no host (libpq would
take it from ``PGHOST``, a service file or its default), an environment whose libpq defaults could
send the connection elsewhere (``PGHOSTADDR``, ``PGSERVICE``, ``PGSERVICEFILE``, a remote
``PGHOST``), or a connection setting the guard does not know to be harmless (``service``,
``socketFactory``, ``loadBalanceHosts``, a host inside ``options`` …) is refused, never guessed at.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, unquote, urlsplit

from django.conf import settings

SEEDABLE_ENVIRONMENTS = frozenset({"local", "test"})
LOCAL_HOSTNAMES = frozenset({"localhost", "localhost.", "ip6-localhost", "ip6-loopback"})
#: A Unix-domain socket folder: an absolute path, nothing that could smuggle another setting in.
SOCKET_DIR_RE = re.compile(r"^/[A-Za-z0-9._/-]*$")
#: Connection settings (libpq keywords and URL parameters, pgjdbc properties; compared in lower case)
#: that do not change which server is reached. Anything else is refused as unprovable.
HARMLESS_SETTINGS = frozenset(
    {
        "host",  # checked as a host
        "hostaddr",  # checked as a host
        "port",
        "dbname",
        "user",
        "password",
        "passfile",
        "connect_timeout",
        "connecttimeout",
        "logintimeout",
        "sockettimeout",
        "application_name",
        "applicationname",
        "fallback_application_name",
        "client_encoding",
        "options",  # checked: no host in it
        "sslmode",
        "ssl",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "sslcrl",
        "channel_binding",
        "require_auth",
        "gssencmode",
        "currentschema",
        "preparethreshold",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
        "target_session_attrs",  # with one host only
        "targetservertype",  # with one host only
    }
)
#: Settings that choose among several hosts: allowed only when the target names one.
HOST_CHOOSERS = frozenset({"target_session_attrs", "targetservertype"})
#: libpq's environment variables that decide where a connection goes whatever host it is given
#: (PGHOSTADDR skips the host's name resolution; a service can set hostaddr), and PGHOST, which
#: decides it when no host is given.
ROUTING_ENVIRONMENT = ("PGHOSTADDR", "PGSERVICE", "PGSERVICEFILE", "PGHOST")
UNPROVABLE = "which cannot be proved to be this machine"


class SeedGuardError(Exception):
    """Seeds were about to reach a database that is not local, or outside local/test."""


def _redact_url(target: str) -> str:
    target = re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:****@", target)
    return re.sub(r"(?i)(password=)[^&\s]*", r"\1****", target)


def _is_keywords(target: str) -> bool:
    """A libpq keyword/value conninfo (``host=/tmp dbname=x``): every word is a setting."""
    words = target.split()
    return bool(words) and all("=" in word for word in words)


def connection_settings(target: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The hosts a connection target names and its other settings (names in lower case).

    ``target`` is a bare host (or a comma-separated list of hosts), a libpq keyword conninfo, or a
    libpq or JDBC URL; a URL's ``?host=`` / ``?hostaddr=`` name hosts as its authority does.
    """
    target = (target or "").strip()
    hosts: list[str] = []
    if "://" not in target:
        if not _is_keywords(target):
            return [h for h in target.split(",") if h], []  # libpq takes a comma-separated host list too
        pairs = [(key.lower(), value.strip("'\"")) for key, _, value in (w.partition("=") for w in target.split())]
    else:
        url = target[len("jdbc:") :] if target.lower().startswith("jdbc:") else target
        parts = urlsplit(url)
        netloc = parts.netloc.rsplit("@", 1)[-1]
        for item in (i for i in netloc.split(",") if i):
            if item.startswith("["):
                hosts.append(item[1:].split("]", 1)[0])
            else:
                hosts.append(unquote(item.rsplit(":", 1)[0] if item.count(":") == 1 else item))
        hosts = [h for h in hosts if h]
        pairs = [(key.lower(), value) for key, value in parse_qsl(parts.query, keep_blank_values=True)]
    for key, value in pairs:
        if key in ("host", "hostaddr"):
            hosts.extend(h for h in value.split(",") if h)
    return hosts, [(key, value) for key, value in pairs if key not in ("host", "hostaddr")]


def hosts_of(target: str) -> list[str]:
    """Every host a connection target names (see :func:`connection_settings`)."""
    return connection_settings(target)[0]


def is_local_host(host: str) -> bool:
    """True for this machine only: localhost, a loopback address, or a Unix socket folder."""
    if host != host.strip() or host == "":
        return False
    if host.startswith("/"):
        return bool(SOCKET_DIR_RE.match(host))
    if host.lower() in LOCAL_HOSTNAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _unprovable_settings(hosts: list[str], others: list[tuple[str, str]]) -> list[str]:
    """The settings of a target that could send its connection somewhere the guard cannot see."""
    found = [f"{key}=" for key, _ in others if key not in HARMLESS_SETTINGS]
    found += [f"{key}= with {len(hosts)} hosts" for key, _ in others if key in HOST_CHOOSERS and len(hosts) > 1]
    found += [f"{key}={value!r}" for key, value in others if key == "options" and "host" in value.lower()]
    return found


def _environment_problems(env: Mapping[str, str], *, host_given: bool) -> list[str]:
    problems = []
    for name in ROUTING_ENVIRONMENT:
        value = env.get(name, "")
        if not value:
            continue
        if name in ("PGSERVICE", "PGSERVICEFILE"):
            problems.append(f"{name} is set ({value!r})")
        elif name == "PGHOSTADDR" and not all(is_local_host(v) for v in value.split(",")):
            problems.append(f"PGHOSTADDR is {value!r}")
        elif name == "PGHOST" and not all(is_local_host(v) for v in value.split(",")):
            problems.append(f"PGHOST is {value!r}" + ("" if host_given else ", and the target names no host"))
    return problems


def assert_seeding_allowed(
    target: str, *, environment: str | None = None, env: Mapping[str, str] | None = None
) -> None:
    """Raise :class:`SeedGuardError` unless seeds may be applied to ``target``.

    ``env`` is the environment the connection would be made in (this process's by default)."""
    environment = environment or settings.FITBUDDY_ENV
    env = os.environ if env is None else env
    shown = _redact_url(target) or "(no host)"
    refusing = f"refusing to apply local data seeds to {shown}"
    if environment not in SEEDABLE_ENVIRONMENTS:
        raise SeedGuardError(
            f"{refusing}: FITBUDDY_ENV is {environment!r}; seeds are applied only when it is local or test"
        )
    hosts, others = connection_settings(target)
    unprovable = _unprovable_settings(hosts, others)
    if unprovable:
        raise SeedGuardError(
            f"{refusing}: {', '.join(unprovable)} can choose the server, {UNPROVABLE}; "
            f"name the host and leave such settings out"
        )
    environment_problems = _environment_problems(env, host_given=bool(hosts))
    if environment_problems:
        raise SeedGuardError(
            f"{refusing}: {'; '.join(environment_problems)} in the environment, and libpq would follow it, "
            f"{UNPROVABLE}; unset it"
        )
    if not hosts:
        raise SeedGuardError(
            f"{refusing}: it names no host, so libpq would choose one (PGHOST, a service file or its default "
            f"socket), {UNPROVABLE}; name it: localhost, 127.0.0.1 or a socket folder such as /var/run/postgresql"
        )
    remote = [h for h in hosts if not is_local_host(h)]
    if remote:
        raise SeedGuardError(
            f"{refusing}: host {', '.join(remote)!s} is not this machine; seeds are applied only to localhost"
        )
