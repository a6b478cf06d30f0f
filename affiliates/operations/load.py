"""Each gym's load, collected from its database server's statistics into the registry.

Per registered server: the registry's gyms with a database there, one administrative connection and
one query over ``pg_stat_database`` and ``pg_database_size`` for all of them
(``affiliates/infra/load_stats.py``), then two bulk upserts in the management database: the current
reading (``affiliate_load``) and today's row of the daily history (``affiliate_load_day``). The work per
server is a fixed number of statements whatever its number of gyms (``bench/load_collect.py``).

**Rates.** ``pg_stat_database`` counts transactions (commits and rollbacks) and rows changed
(inserted, updated, deleted) since its statistics were last reset. Each reading keeps the counters as
read; the next turns the difference into a rate per day over the time between the two readings, both
read on the server's own clock. A counter lower than the one before, or a ``stats_reset`` other than
the one before, is a reset (``pg_stat_reset``, a crash that lost the statistics): what it counted
since then is the difference, so a rate is never negative (it may undercount the reading in which
the reset happened).

**Last activity** is the time of the first reading that saw a gym's counters move since the reading
before (either transactions or rows changed), and it stays until they move again. PostgreSQL keeps no
"last used" time per database: ``pg_stat_activity`` shows only sessions open now, and other roles'
sessions hide their timestamps from an administrator without ``pg_read_all_stats``; counters are
always readable and never move on their own, so their movement is the honest signal. It is precise to
the collection interval (``LOAD_COLLECT_EVERY_SECONDS``) and follows any use of the gym's database,
including staff reading its summary and autovacuum cleaning up after its writes; the collector itself
connects only to the server's maintenance database, so reading never counts as activity.

A server that cannot be reached (or whose statement outlasts ``LOAD_COLLECT_TIMEOUT_SECONDS``) is
skipped, logged and reported; the others are still collected. One collector works on a server at a
time (an advisory lock); a second one skips it, so no day's counts are added twice.
"""

from __future__ import annotations

import datetime
import logging
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from affiliates.errors import OperationError
from affiliates.infra import load_stats, locks
from affiliates.infra.targets import server_admin_target
from affiliates.models import Affiliate, AffiliateLoad, AffiliateLoadDay, DatabaseServer
from affiliates.operations.fleet_batches import WITH_DATABASE

log = logging.getLogger(__name__)

#: The advisory lock of one server's collection (key, server id).
COLLECT_LOCK = zlib.crc32(b"fitbuddy:load-collect") & 0x7FFFFFFF
DAY_SECONDS = 86_400
GROWTH_DAYS = 7


@dataclass(frozen=True)
class ServerOutcome:
    """How one server's collection went."""

    server: str
    gyms: int = 0
    read: int = 0
    #: Gyms the registry places on the server whose database it does not have.
    missing: list[str] = field(default_factory=list)
    #: Why nothing was read (the server could not be reached, another collector holds it).
    error: str = ""
    skipped: bool = False
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return bool(self.error) and not self.skipped

    def describe(self) -> str:
        if self.error:
            return f"{self.server}: {'skipped' if self.skipped else 'FAILED'}: {self.error}"
        text = (
            f"{self.server}: {self.read} of {self.gyms} gym{'' if self.gyms == 1 else 's'} read in {self.seconds:.2f} s"
        )
        if self.missing:
            shown = ", ".join(self.missing[:5]) + (", …" if len(self.missing) > 5 else "")
            text += f"; {len(self.missing)} database{'' if len(self.missing) == 1 else 's'} not found: {shown}"
        return text


@dataclass(frozen=True)
class CollectReport:
    """Every server's outcome, in name order."""

    servers: list[ServerOutcome]

    @property
    def failed(self) -> list[ServerOutcome]:
        return [outcome for outcome in self.servers if outcome.failed]

    @property
    def read(self) -> int:
        return sum(outcome.read for outcome in self.servers)


@dataclass(frozen=True)
class Reading:
    """One gym's new reading, ready for the registry."""

    affiliate_id: int
    stats: load_stats.DatabaseStats
    read_at: datetime.datetime
    xacts: int  # counted since the previous reading (0 for the first)
    rows_changed: int
    xacts_per_day: float | None
    rows_changed_per_day: float | None
    growth_7d_bytes: int | None
    last_activity: datetime.datetime | None


def reading_make(
    affiliate_id: int,
    stats: load_stats.DatabaseStats,
    read_at: datetime.datetime,
    previous: AffiliateLoad | None,
    size_before: int | None,
) -> Reading:
    """A gym's reading from its figures, its previous reading and its size on the oldest day of the last 7."""
    xacts, changed, per_day_x, per_day_rows = 0, 0, None, None
    last_activity = previous.last_activity if previous else None
    seconds = (read_at - previous.read_at).total_seconds() if previous else 0.0
    if previous is not None and seconds > 0:
        reset = (
            stats.xact_total < previous.xact_total
            or stats.rows_changed_total < previous.rows_changed_total
            or stats.stats_reset != previous.stats_reset
        )
        # After a reset the counters count from it, which came after the previous reading.
        xacts = stats.xact_total if reset else stats.xact_total - previous.xact_total
        changed = stats.rows_changed_total if reset else stats.rows_changed_total - previous.rows_changed_total
        per_day_x, per_day_rows = xacts * DAY_SECONDS / seconds, changed * DAY_SECONDS / seconds
        if xacts or changed:
            last_activity = read_at
    growth = None if stats.size_bytes is None or size_before is None else stats.size_bytes - size_before
    return Reading(affiliate_id, stats, read_at, xacts, changed, per_day_x, per_day_rows, growth, last_activity)


def _sizes_before(affiliate_ids: list[int], today: datetime.date) -> dict[int, int]:
    """Each gym's size on the oldest day of the 7 before ``today`` that has one (one index range per gym)."""
    rows = (
        AffiliateLoadDay.objects.filter(
            affiliate_id__in=affiliate_ids,
            day__gte=today - datetime.timedelta(days=GROWTH_DAYS),
            day__lt=today,
            size_bytes__isnull=False,
        )
        .order_by("affiliate_id", "day")
        .distinct("affiliate_id")
        .values_list("affiliate_id", "size_bytes")
    )
    return {affiliate_id: size for affiliate_id, size in rows if size is not None}


LOAD_UPSERT = """
INSERT INTO affiliate_load AS l (affiliate_id, size_bytes, connections, xact_total, rows_changed_total,
                                 stats_reset, xacts_per_day, rows_changed_per_day, growth_7d_bytes,
                                 last_activity, read_at)
SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::integer[], %s::bigint[], %s::bigint[], %s::timestamptz[],
                     %s::float8[], %s::float8[], %s::bigint[], %s::timestamptz[], %s::timestamptz[])
ON CONFLICT (affiliate_id) DO UPDATE SET
    size_bytes = EXCLUDED.size_bytes, connections = EXCLUDED.connections, xact_total = EXCLUDED.xact_total,
    rows_changed_total = EXCLUDED.rows_changed_total, stats_reset = EXCLUDED.stats_reset,
    xacts_per_day = EXCLUDED.xacts_per_day, rows_changed_per_day = EXCLUDED.rows_changed_per_day,
    growth_7d_bytes = EXCLUDED.growth_7d_bytes, last_activity = EXCLUDED.last_activity, read_at = EXCLUDED.read_at
"""

DAY_UPSERT = """
INSERT INTO affiliate_load_day AS d (affiliate_id, day, size_bytes, xacts, rows_changed)
SELECT * FROM unnest(%s::bigint[], %s::date[], %s::bigint[], %s::bigint[], %s::bigint[])
ON CONFLICT (affiliate_id, day) DO UPDATE SET
    size_bytes = coalesce(EXCLUDED.size_bytes, d.size_bytes),
    xacts = d.xacts + EXCLUDED.xacts,
    rows_changed = d.rows_changed + EXCLUDED.rows_changed
"""


def readings_write(readings: list[Reading]) -> None:
    """Both upserts, one statement each for all the readings (in the caller's transaction)."""
    if not readings:
        return
    ids = [r.affiliate_id for r in readings]
    sizes = [r.stats.size_bytes for r in readings]
    days = [r.read_at.astimezone(datetime.UTC).date() for r in readings]
    with connection.cursor() as cursor:
        cursor.execute(
            LOAD_UPSERT,
            [
                ids,
                sizes,
                [r.stats.connections for r in readings],
                [r.stats.xact_total for r in readings],
                [r.stats.rows_changed_total for r in readings],
                [r.stats.stats_reset for r in readings],
                [r.xacts_per_day for r in readings],
                [r.rows_changed_per_day for r in readings],
                [r.growth_7d_bytes for r in readings],
                [r.last_activity for r in readings],
                [r.read_at for r in readings],
            ],
        )
        cursor.execute(DAY_UPSERT, [ids, days, sizes, [r.xacts for r in readings], [r.rows_changed for r in readings]])


def server_collect(server: DatabaseServer) -> ServerOutcome:
    """Read and record the load of every gym with a database on ``server``; never raises for the server."""
    started = time.monotonic()
    gyms = dict(
        Affiliate.objects.filter(database_server=server, status__in=WITH_DATABASE, database_name__isnull=False)
        .order_by("database_name")
        .values_list("database_name", "pk")
    )
    if not gyms:
        return ServerOutcome(server.name)
    with locks.advisory_lock(COLLECT_LOCK, server.pk, wait=False) as acquired:
        if not acquired:
            return ServerOutcome(server.name, len(gyms), error="another collection is reading it", skipped=True)
        try:
            stats = load_stats.server_stats(server_admin_target(server), list(gyms))
        except (psycopg.Error, OperationError) as exc:
            reason = " ".join(str(exc).split())[:300] or type(exc).__name__
            log.warning("load: database server %s skipped: %s", server.name, reason)
            return ServerOutcome(server.name, len(gyms), error=reason, seconds=time.monotonic() - started)
        today = stats.read_at.astimezone(datetime.UTC).date()
        ids = [gyms[name] for name in stats.databases]
        with transaction.atomic():
            previous = AffiliateLoad.objects.in_bulk(ids)
            before = _sizes_before(ids, today)
            readings = [
                reading_make(gyms[name], figures, stats.read_at, previous.get(gyms[name]), before.get(gyms[name]))
                for name, figures in stats.databases.items()
            ]
            readings_write(readings)
    missing = sorted(name for name in gyms if name not in stats.databases)
    return ServerOutcome(server.name, len(gyms), len(readings), missing, seconds=time.monotonic() - started)


def history_prune(*, today: datetime.date | None = None) -> int:
    """Drop daily rows older than ``LOAD_HISTORY_DAYS``; how many went."""
    today = today or timezone.now().date()
    cutoff = today - datetime.timedelta(days=settings.LOAD_HISTORY_DAYS)
    deleted, _ = AffiliateLoadDay.objects.filter(day__lt=cutoff).delete()
    return deleted


def load_collect(
    *, server_names: list[str] | None = None, progress: Callable[[ServerOutcome], None] = lambda outcome: None
) -> CollectReport:
    """Collect every registered server's gyms (or the servers named), reporting each as it is done."""
    servers = DatabaseServer.objects.order_by("name")
    if server_names:
        servers = servers.filter(name__in=server_names)
    outcomes = []
    for server in servers:
        outcome = server_collect(server)
        progress(outcome)
        outcomes.append(outcome)
    history_prune()
    return CollectReport(outcomes)
