"""Each gym's load: collected from its real server's statistics, rates and last activity, resets,
unreachable servers, placement by weight, the beat task and the command."""

from __future__ import annotations

import datetime
import io
import socket
import uuid

import psycopg
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from psycopg import sql

from affiliates.infra import queue
from affiliates.infra.targets import affiliate_target, server_admin_target
from affiliates.models import Affiliate, AffiliateLoad, AffiliateLoadDay, DatabaseServer
from affiliates.operations import gym_summary, load, placement
from affiliates.routing.connections import forget_all
from tests.conftest import wait_for
from tests.factories import TEST_PREFIX, new_slug

pytestmark = pytest.mark.django_db(transaction=True)


def counters(target, name: str) -> tuple[int, int]:
    """What the server's statistics say now: transactions and rows changed."""
    with psycopg.connect(**target.conninfo(dbname="postgres")) as conn:
        row = conn.execute(
            "SELECT xact_commit + xact_rollback, tup_inserted + tup_updated + tup_deleted"
            " FROM pg_stat_database WHERE datname = %s",
            [name],
        ).fetchone()
    return row or (0, 0)


def write_rows(affiliate: Affiliate, count: int) -> None:
    """Writes in the gym's own database, as its own role, on a connection closed after (its statistics
    reach the server when its session ends)."""
    with psycopg.connect(**affiliate_target(affiliate).conninfo(), autocommit=True) as conn:
        for i in range(count):
            conn.execute(
                "INSERT INTO master.member (first_name, last_name, email) VALUES (%s, 'Load', %s)",
                [f"L{i}", f"load{i}-{uuid.uuid4().hex[:6]}@load.test"],
            )


def settled(affiliate: Affiliate, at_least: tuple[int, int]) -> tuple[int, int]:
    admin = server_admin_target(affiliate.database_server)
    return wait_for(
        lambda: (now := counters(admin, affiliate.database_name))[0] >= at_least[0] and now[1] >= at_least[1] and now,
        timeout=30,
        what="the gym's statistics to reach the server",
    )


def reading(affiliate: Affiliate) -> AffiliateLoad:
    return AffiliateLoad.objects.get(affiliate=affiliate)


def test_collecting_twice_reads_size_rates_and_last_activity_of_a_real_gym(gyms):
    forget_all()
    connections.close_all()  # the fixture's own writes: their statistics reach the server now
    admin = server_admin_target(gyms.a.database_server)
    settled(gyms.a, counters(admin, gyms.a.database_name))

    report = load.load_collect()
    assert not report.failed and report.read >= 2
    first = reading(gyms.a)
    assert first.size_bytes and first.size_bytes > 1_000_000
    assert first.xacts_per_day is None and first.rows_changed_per_day is None  # one reading: no rate yet
    assert first.last_activity is None

    write_rows(gyms.a, 5)
    settled(gyms.a, (first.xact_total + 5, first.rows_changed_total + 5))
    load.load_collect()
    second = reading(gyms.a)
    assert second.xact_total >= first.xact_total + 5
    assert second.rows_changed_total >= first.rows_changed_total + 5
    assert second.xacts_per_day > 0 and second.rows_changed_per_day > 0
    assert second.last_activity == second.read_at > first.read_at

    load.load_collect()  # nothing happened in the gym meanwhile
    third = reading(gyms.a)
    assert third.xacts_per_day == 0 and third.rows_changed_per_day == 0
    assert third.last_activity == second.last_activity  # stays where the counters last moved
    day = AffiliateLoadDay.objects.get(affiliate=gyms.a, day=third.read_at.astimezone(datetime.UTC).date())
    assert day.xacts == second.xact_total - first.xact_total and day.size_bytes == third.size_bytes

    line = gym_summary.summary_line(gyms.a)
    assert f"database {third.size_bytes / 1_000_000:.1f} MB" in line
    assert "0 transactions/day" in line and "connection" in line


def test_growth_over_seven_days_is_the_size_now_less_the_oldest_day_of_the_week(gyms):
    load.load_collect()
    now = reading(gyms.a)
    today = now.read_at.astimezone(datetime.UTC).date()
    AffiliateLoadDay.objects.create(affiliate=gyms.a, day=today - datetime.timedelta(days=9), size_bytes=1)
    AffiliateLoadDay.objects.create(affiliate=gyms.a, day=today - datetime.timedelta(days=6), size_bytes=1_000)
    AffiliateLoadDay.objects.create(affiliate=gyms.a, day=today - datetime.timedelta(days=2), size_bytes=5_000)

    load.load_collect()
    later = reading(gyms.a)
    assert later.growth_7d_bytes == later.size_bytes - 1_000  # day -6, not -9 (outside the week) nor -2
    assert reading(gyms.b).growth_7d_bytes is None  # no earlier day: no growth yet


def test_counters_lower_than_the_last_reading_count_as_a_reset_never_a_negative_rate(gyms):
    load.load_collect()
    # As if the statistics had been reset since: the registry's last reading is above the server's counters.
    AffiliateLoad.objects.filter(affiliate=gyms.a).update(xact_total=10**12, rows_changed_total=10**12)
    load.load_collect()
    after = reading(gyms.a)
    assert after.xact_total < 10**12
    assert after.xacts_per_day >= 0 and after.rows_changed_per_day >= 0
    assert all(day.xacts >= 0 and day.rows_changed >= 0 for day in AffiliateLoadDay.objects.filter(affiliate=gyms.a))


@pytest.mark.cluster
def test_a_real_statistics_reset_gives_no_negative_rate(clean_registry, rds_like_server):
    server, superuser = rds_like_server
    name = f"{TEST_PREFIX}load_{uuid.uuid4().hex[:8]}"
    with superuser() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    gym = Affiliate.objects.create(
        schema_name=new_slug(), name="Reset gym", status="active", database_server=server, database_name=name
    )

    def write(count: int) -> None:
        with superuser(name) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS t (i int)")
            conn.execute("INSERT INTO t SELECT generate_series(1, %s)", [count])

    def stats() -> tuple[int, int]:
        return counters(server_admin_target(server), name)

    write(500)
    wait_for(lambda: stats()[1] >= 500, timeout=30, what="statistics")
    load.load_collect(server_names=[server.name])
    write(500)
    wait_for(lambda: stats()[1] >= 1000, timeout=30, what="statistics")
    load.load_collect(server_names=[server.name])
    before = reading(gym)
    assert before.rows_changed_per_day > 0 and before.rows_changed_total >= 1000

    with superuser(name) as conn:
        conn.execute("SELECT pg_stat_reset()")
    write(3)
    wait_for(lambda: 3 <= stats()[1] < 1000, timeout=30, what="the reset and new writes")
    load.load_collect(server_names=[server.name])
    after = reading(gym)
    assert after.stats_reset is not None and after.rows_changed_total < before.rows_changed_total
    assert after.rows_changed_per_day > 0 and after.xacts_per_day >= 0  # counted since the reset
    assert after.last_activity == after.read_at


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_server_is_skipped_and_reported_the_others_are_collected(gyms):
    gone = DatabaseServer.objects.create(name="gone", host="127.0.0.1", port=_closed_port())
    Affiliate.objects.create(
        schema_name=new_slug(), name="Lost", status="active", database_server=gone, database_name="fitbuddy_lost"
    )
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="1 server\\(s\\) could not be read: gone"):
        call_command("collect_load", stdout=out, stderr=err)

    assert "gone: FAILED" in err.getvalue() and "password" not in err.getvalue().lower()
    assert f"{gyms.a.database_server.name}: 2 of 2 gyms read" in out.getvalue()
    assert AffiliateLoad.objects.filter(affiliate__in=[gyms.a, gyms.b]).count() == 2

    out = io.StringIO()
    call_command("collect_load", "--server", gyms.a.database_server.name, stdout=out)  # the healthy one alone
    assert "2 gyms read on 1 server(s)" in out.getvalue()
    with pytest.raises(CommandError, match="No database server nowhere"):
        call_command("collect_load", "--server", "nowhere")


def test_the_beat_schedule_runs_the_collector_and_the_task_is_registered():
    from fitbuddy.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["load_collect"]
    assert entry == {"task": queue.LOAD_COLLECT, "schedule": settings.LOAD_COLLECT_EVERY_SECONDS}
    assert settings.LOAD_COLLECT_EVERY_SECONDS == 900
    app.loader.import_default_modules()
    assert queue.LOAD_COLLECT in app.tasks


@pytest.mark.worker
def test_the_task_collects_on_a_real_worker(gyms, worker):
    queue.send(queue.LOAD_COLLECT)
    wait_for(lambda: AffiliateLoad.objects.filter(affiliate__in=[gyms.a, gyms.b]).count() == 2, what="readings")


# --- placement by weight ---


def registry_gym(server: DatabaseServer, *, size: int | None = None, xacts: float | None = None) -> Affiliate:
    slug = new_slug()
    gym = Affiliate.objects.create(schema_name=slug, name=slug, status="active", database_server=server)
    if size is not None or xacts is not None:
        AffiliateLoad.objects.create(affiliate=gym, size_bytes=size, xacts_per_day=xacts)
    return gym


def test_a_gyms_weight_is_the_base_plus_its_size_and_activity(clean_registry, settings):
    settings.PLACEMENT_WEIGHT_BASE, settings.PLACEMENT_WEIGHT_PER_GB = 1.0, 4.0
    settings.PLACEMENT_WEIGHT_PER_1K_XACTS_DAY = 0.5
    server = DatabaseServer.objects.create(name="one", host="one.db.example")
    never = registry_gym(server)
    big = registry_gym(server, size=2_000_000_000, xacts=10_000)
    assert placement.affiliate_weight(never) == 1.0
    assert placement.affiliate_weight(big) == pytest.approx(1 + 8 + 5)
    assert placement.server_weights() == {server.pk: pytest.approx(15.0)}


def test_placement_picks_the_lighter_server_and_never_the_excluded_one(clean_registry):
    heavy, light = (DatabaseServer.objects.create(name=n, host=f"{n}.db.example") for n in ("heavy", "light"))
    registry_gym(heavy, size=2_000_000_000)  # one 2 GB gym
    for _ in range(3):
        registry_gym(light, size=1_000_000)  # three small ones
    assert placement.database_server_choose() == light  # more gyms, less weight
    assert placement.database_server_choose(exclude=light) == heavy
    with pytest.raises(ValidationError, match="light is the server the affiliate is leaving"):
        placement.database_server_choose(server_name="light", exclude=light)
    DatabaseServer.objects.filter(pk=heavy.pk).update(is_accepting=False)
    with pytest.raises(ValidationError, match="No database server has room") as refused:
        placement.database_server_choose(exclude=light)
    assert "light: 3/∞ leaving (weight 3.0)" in str(refused.value)


@pytest.mark.cluster
def test_placement_weighs_real_readings_over_counting_gyms(gyms, second_server, settings):
    settings.PLACEMENT_WEIGHT_PER_GB = 1000.0  # one per MB: the pair's few MB outweigh three empty gyms
    local = gyms.a.database_server
    second, _restart = second_server
    for _ in range(3):  # registered on the second server, never measured (no database there)
        registry_gym(second)
    assert placement.database_server_choose() == local  # by count: 2 gyms beside 3

    report = load.load_collect()
    assert not report.failed and report.read == 2
    weights = placement.server_weights()
    assert weights[second.pk] == pytest.approx(3.0) and weights[local.pk] > 3.0
    assert placement.database_server_choose() == second  # the lighter, though it holds more gyms
    assert placement.database_server_choose(exclude=second) == local
