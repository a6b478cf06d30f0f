"""Host-based routing to each affiliate's own database, failing closed (affiliates/routing/)."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connections

from affiliates.infra.targets import management_target
from affiliates.models import Affiliate, Domain
from affiliates.operations import lifecycle
from affiliates.routing import connections as affiliate_connections
from affiliates.routing.context import NoCurrentAffiliate, affiliate_context, current_affiliate
from gym.members.models import Member
from gym.workouts.models import Workout
from tests.conftest import client_for, wait_for
from tests.factories import affiliate_provisioned

pytestmark = pytest.mark.django_db(transaction=True)


def test_unknown_host_is_404(gyms, client):
    response = client.get("/", HTTP_HOST="nowhere.localhost")
    assert response.status_code == 404
    assert b"No gym here" in response.content


def test_forged_host_header_is_404_not_500(gyms, client):
    for forged in ("evil.example.com", "ironworks.localhost.evil.com", "a b", "gym.localhost@evil.com", "x" * 300):
        assert client.get("/", HTTP_HOST=forged).status_code in (400, 404)


def test_management_host_serves_the_command_center_not_a_gym(gyms, client):
    assert client.get("/admin/login/", HTTP_HOST="admin.localhost").status_code == 200
    assert client.get("/members/", HTTP_HOST="admin.localhost").status_code == 404
    assert client_for(gyms.a).get("/admin/login/").status_code == 404


def test_each_host_reads_its_own_database(gyms):
    page_a = client_for(gyms.a, gyms.owner_a).get("/members/").content.decode()
    page_b = client_for(gyms.b, gyms.owner_b).get("/members/").content.decode()

    assert "ann@a.test" in page_a and "bob@b.test" not in page_a
    assert "bob@b.test" in page_b and "ann@a.test" not in page_b


def test_a_gym_model_without_a_current_affiliate_is_an_error():
    assert current_affiliate() is None
    with pytest.raises(NoCurrentAffiliate):
        Member.objects.count()
    with pytest.raises(NoCurrentAffiliate):
        Workout.objects.create(name="x", score_type="reps")


def test_context_is_reset_after_the_block_even_on_error(gyms):
    with pytest.raises(RuntimeError):
        with affiliate_context(gyms.a):
            assert Member.objects.count() == 2
            raise RuntimeError("boom")
    assert current_affiliate() is None


def test_relations_across_databases_are_refused(gyms):
    with affiliate_context(gyms.a):
        ann = Member.objects.get(email="ann@a.test")
    with affiliate_context(gyms.b):
        with pytest.raises(ValueError):
            Workout.objects.get(pk=gyms.secret_b.pk).participations.create(member=ann, score_value=1)


def test_suspended_and_archived_affiliates_get_a_clear_page(gyms, settings, tmp_path):
    settings.BACKUP_DIR = tmp_path
    # Logged in while the gyms served (their logins are in their own databases).
    owner_a, owner_b = client_for(gyms.a, gyms.owner_a), client_for(gyms.b, gyms.owner_b)
    lifecycle.affiliate_suspend(affiliate_id=gyms.a.pk)
    lifecycle.affiliate_archive(affiliate_id=gyms.b.pk)
    Affiliate.objects.clear_host_cache()

    suspended = owner_a.get("/members/")
    archived = owner_b.get("/members/")

    assert suspended.status_code == 503 and b"suspended" in suspended.content
    assert archived.status_code == 503 and b"archived" in archived.content
    assert b"ann@a.test" not in suspended.content


def test_management_commands_take_an_affiliate(gyms, capsys):
    from django.core.management import call_command

    call_command("leaderboard", gyms.fran_a.pk, "--affiliate", gyms.a.slug)
    assert "Fran" in capsys.readouterr().out
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="has no workout"):
        call_command("leaderboard", 999_999, "--affiliate", gyms.a.slug)


def _backends(database_names: list[str]) -> int:
    """Backends of the affiliates' own roles on their databases: the application's connections (a
    maintenance login, such as another test process installing the pooler's lookup, is not one)."""
    target = management_target()
    with psycopg.connect(**target.conninfo(dbname="postgres")) as conn:
        return conn.execute(
            # An affiliate's role is named as its database is (affiliates/validation.py).
            "SELECT count(*) FROM pg_stat_activity WHERE datname = ANY(%s) AND usename = datname",
            [database_names],
        ).fetchone()[0]


def _settled_backends(database_names: list[str], *, cap: int) -> int:
    """Backends on the databases once those of connections just closed have gone (they exit
    asynchronously after the client hangs up); fails if the count never comes down to ``cap``."""
    counts: list[int] = []

    def settled() -> bool:
        counts.append(_backends(database_names))
        return counts[-1] <= cap

    wait_for(settled, timeout=5, what=f"backends to come down to {cap} (seen {counts[-3:]})")
    return counts[-1]


def test_one_process_serving_many_affiliates_keeps_connections_under_the_cap(clean_registry, settings):
    settings.AFFILIATE_CONNECTIONS_PER_THREAD = 3
    affiliates = [affiliate_provisioned(name=f"Fleet {i}") for i in range(10)]
    names = [a.database_name for a in affiliates]
    peak = 0
    for _ in range(2):
        for affiliate in affiliates:
            with affiliate_context(affiliate):
                Member.objects.count()
            peak = max(peak, _settled_backends(names, cap=3))
            assert affiliate_connections.open_affiliate_connections() <= 3
    assert 1 <= peak <= 3
    for affiliate in affiliates:
        affiliate_connections.forget(affiliate)
    connections.close_all()
    assert _settled_backends(names, cap=0) == 0


def test_host_lookup_is_cached_under_its_routing_stamp_and_a_domain_change_is_seen_at_once(gyms):
    Affiliate.objects.clear_host_cache()
    domain = gyms.a.domains.get()
    old = domain.domain
    assert Affiliate.objects.for_host(old, stamp="s1").pk == gyms.a.pk
    assert Affiliate.objects.for_host("nowhere.localhost", stamp="s1") is None

    # Changed behind the ORM's back (no signal): the entry is served while the stamp is the same …
    Domain.objects.filter(pk=domain.pk).update(domain="renamed.localhost")
    assert Affiliate.objects.for_host(old, stamp="s1").pk == gyms.a.pk
    # … and read again under another stamp (a change recorded by any process).
    assert Affiliate.objects.for_host(old, stamp="s2") is None
    assert Affiliate.objects.for_host("renamed.localhost", stamp="s2").pk == gyms.a.pk

    # Through the ORM (the command center, a command): this process forgets at once too.
    domain.refresh_from_db()
    domain.domain = old
    domain.save()
    assert Affiliate.objects.for_host("renamed.localhost", stamp="s2") is None
    assert Affiliate.objects.for_host(old, stamp="s2").pk == gyms.a.pk


def test_the_router_sends_the_marked_affiliate_models_away_from_default(gyms):
    """Each model's silo mark decides: affiliate models go to the gym's alias, the registry stays on default."""
    from affiliates.routing.connections import alias_for
    from affiliates.routing.routers import AffiliateRouter, gym_app_labels
    from gym.workouts.models import PersonalRecord

    router = AffiliateRouter()
    with affiliate_context(gyms.a):
        assert router.db_for_read(PersonalRecord) == alias_for(gyms.a) != "default"
        assert router.db_for_write(Member) == alias_for(gyms.a)
        assert router.db_for_read(Affiliate) == "default"
    # The apps with affiliate models:
    assert gym_app_labels() == {"accounts", "members", "workouts", "classes", "leaderboards"}
    assert router.allow_migrate("default", "workouts") is False  # Flyway owns them
    assert router.allow_migrate("default", "affiliates") is True
