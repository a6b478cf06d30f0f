"""Moving a gym to another server while it serves: nothing acknowledged is lost, a crash resumes."""

from __future__ import annotations

import threading

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connections as django_connections

from affiliates.infra import databases
from affiliates.infra.targets import affiliate_target, on_database, server_admin_target
from affiliates.models import Affiliate, AffiliateEvent, AffiliateMove, DatabaseServer, StaffAudit
from affiliates.operations import move, reconcile
from affiliates.routing import connections
from affiliates.routing.context import affiliate_context
from gym.members.models import Member
from tests.conftest import client_for, wait_for
from tests.factories import affiliate_provisioned, gym_login

pytestmark = pytest.mark.django_db(transaction=True)


class Writer(threading.Thread):
    """A coach adding members through the gym's web pages as fast as answers come; what was acknowledged."""

    def __init__(self, affiliate: Affiliate, login) -> None:
        super().__init__(daemon=True)
        self.affiliate, self.login = affiliate, login
        self.stop = threading.Event()
        self.acknowledged: list[str] = []
        self.refused: list[int] = []

    def run(self) -> None:
        client = client_for(self.affiliate, self.login)
        number = 0
        try:
            while not self.stop.is_set():
                number += 1
                name = f"Writer{number}"
                try:
                    answer = client.post(
                        "/members/new/",
                        {"first_name": name, "last_name": "Moving", "email": f"w{number}@gym.test", "gender": "X"},
                    )
                except Exception:  # a request that failed inside: not acknowledged
                    self.refused.append(500)
                    continue
                if answer.status_code == 302:
                    self.acknowledged.append(name)
                else:
                    self.refused.append(answer.status_code)
        finally:
            django_connections.close_all()

    def finish(self) -> None:
        self.stop.set()
        self.join(timeout=60)


def _members_on(server: DatabaseServer, affiliate: Affiliate) -> list[str]:
    target = on_database(server_admin_target(server), affiliate.database_name)
    with psycopg.connect(**target.conninfo()) as conn:
        return [row[0] for row in conn.execute("SELECT first_name FROM master.member WHERE last_name = 'Moving'")]


def _exists_on(server: DatabaseServer, name: str) -> bool:
    with databases.admin_connect(server_admin_target(server)) as conn:
        return databases.database_exists(conn, name)


def _move_while_writing(affiliate: Affiliate, to: DatabaseServer, **options) -> tuple[AffiliateMove, Writer]:
    owner = gym_login(affiliate, "owner@moving.test", "owner")
    writer = Writer(affiliate, owner)
    writer.start()
    wait_for(lambda: len(writer.acknowledged) >= 5, timeout=30, what="the writer's first members")
    lines: list[str] = []
    done = move.affiliate_move(slug=affiliate.slug, to=to.name, requested_by="pytest", progress=lines.append, **options)
    wait_for(lambda: len(writer.acknowledged) >= len(lines) + 20, timeout=30, what="members written after the move")
    writer.finish()
    return done, writer


@pytest.mark.cluster
@pytest.mark.flyway
def test_a_gym_moves_by_logical_replication_while_a_coach_writes(clean_registry, logical_servers):
    alpha, beta = logical_servers
    gym = affiliate_provisioned()
    assert gym.database_server == alpha
    source_name = gym.database_name

    done, writer = _move_while_writing(gym, beta)

    assert done.state == "done" and done.method == "logical"
    gym = Affiliate.objects.select_related("database_server").get(pk=gym.pk)
    assert gym.database_server == beta and gym.write_pause_until is None
    on_beta = _members_on(beta, gym)
    assert set(writer.acknowledged) <= set(on_beta), "an acknowledged write is missing after the move"
    assert len(on_beta) == len(set(on_beta))
    assert not _exists_on(alpha, source_name), "the old copy stays only until the check passed"
    assert done.pause_ms is not None and done.tables_checked >= 10 and done.rows_checked >= len(writer.acknowledged)
    steps = list(AffiliateEvent.objects.filter(affiliate=gym).values_list("step", flat=True))
    for step in ("move_prepare", "move_copy", "move_pause", "move_catch_up", "move_check", "move_switch"):
        assert step in steps
    assert StaffAudit.objects.filter(action="move", target=gym.slug, outcome="succeeded").exists()
    # The gym's people moved with it: its owner logs in on the new server, and new rows get new ids.
    with affiliate_context(gym.pk):
        assert Member.objects.filter(last_name="Moving").count() == len(on_beta)
        Member.objects.create(first_name="After", last_name="Move", email="after@gym.test")
    assert affiliate_target(gym).port == beta.port


@pytest.mark.cluster
def test_a_gym_moves_by_dump_and_restore_where_servers_cannot_replicate(clean_registry, request):
    gym = affiliate_provisioned()  # on the suite's own server (wal_level = replica)
    source = gym.database_server
    second, _restart = request.getfixturevalue("second_server")

    done, writer = _move_while_writing(gym, second)

    assert done.method == "dump" and done.state == "done"
    gym = Affiliate.objects.select_related("database_server").get(pk=gym.pk)
    assert gym.database_server == second
    assert set(writer.acknowledged) <= set(_members_on(second, gym))
    assert not _exists_on(source, gym.database_name)
    page = client_for(gym, gym_login(gym, "coach@moving.test", "coach")).get("/members/")
    assert page.status_code == 200 and "Writer1" in page.content.decode()


@pytest.mark.cluster
def test_a_move_refuses_what_it_cannot_do_and_changes_nothing(clean_registry, request):
    gym = affiliate_provisioned()
    source = gym.database_server
    with pytest.raises(CommandError, match="already on"):
        call_command("move_affiliate", gym.slug, "--to", source.name)
    with pytest.raises(CommandError, match="No database server 'ghost'"):
        call_command("move_affiliate", gym.slug, "--to", "ghost")
    with pytest.raises(CommandError, match="no affiliate with slug"):
        call_command("move_affiliate", "nobody-here")
    second, _restart = request.getfixturevalue("second_server")
    with pytest.raises(CommandError, match="logical replication cannot move"):
        call_command("move_affiliate", gym.slug, "--to", second.name, "--method", "logical")
    assert Affiliate.objects.get(pk=gym.pk).database_server == source
    assert not AffiliateMove.objects.exists()
    assert not _exists_on(second, gym.database_name)


@pytest.mark.cluster
def test_a_failed_check_rolls_the_move_back_and_the_gym_serves_on(clean_registry, request, monkeypatch):
    gym = affiliate_provisioned()
    source = gym.database_server
    second, _restart = request.getfixturevalue("second_server")
    with affiliate_context(gym.pk):
        Member.objects.create(first_name="Kept", last_name="Here", email="kept@gym.test")
    real = move.replication.fingerprints

    def lying(target):  # the copy comes out one row short
        found = real(target)
        if target.port == second.port:
            found["member"] = (found["member"][0] - 1, found["member"][1])
        return found

    monkeypatch.setattr(move.replication, "fingerprints", lying)
    with pytest.raises(CommandError, match="member: 1 rows, the copy has 0"):
        call_command("move_affiliate", gym.slug, "--to", second.name)

    gym = Affiliate.objects.select_related("database_server").get(pk=gym.pk)
    assert gym.database_server == source and gym.write_pause_until is None
    assert AffiliateMove.objects.get().state == "rolled_back"
    assert not _exists_on(second, gym.database_name)
    connections.forget_all()
    page = client_for(gym, gym_login(gym, "owner@kept.test", "owner")).get("/members/")
    assert page.status_code == 200 and "Kept" in page.content.decode()


@pytest.mark.cluster
def test_drain_with_move_empties_a_server_gym_by_gym(clean_registry, request):
    gyms = [affiliate_provisioned(), affiliate_provisioned()]
    source = gyms[0].database_server
    second, _restart = request.getfixturevalue("second_server")
    for gym in gyms:
        with affiliate_context(gym.pk):
            Member.objects.create(first_name="Stays", last_name=gym.slug, email=f"{gym.slug}@gym.test")

    from io import StringIO

    out = StringIO()
    call_command("database_server", "drain", source.name, "--move", stdout=out)

    assert f"{source.name} is empty: 2 gyms moved." in out.getvalue()
    assert "[1/2]" in out.getvalue() and "[2/2]" in out.getvalue()
    assert not DatabaseServer.objects.get(pk=source.pk).is_accepting
    for gym in gyms:
        gym = Affiliate.objects.select_related("database_server").get(pk=gym.pk)
        assert gym.database_server == second
        with affiliate_context(gym.pk):
            assert Member.objects.filter(last_name=gym.slug).count() == 1


@pytest.mark.cluster
@pytest.mark.worker
def test_a_worker_killed_mid_move_is_resumed_by_the_reconciler(clean_registry, worker_factory, request):
    gym = affiliate_provisioned()
    source = gym.database_server
    second, _restart = request.getfixturevalue("second_server")
    with affiliate_context(gym.pk):
        Member.objects.create(first_name="Before", last_name="Crash", email="before@gym.test")
    first = worker_factory(MOVE_QUIET_SECONDS="60")
    # A request still running on the source when the pause begins: the mover waits for it to finish.
    with psycopg.connect(**affiliate_target(gym).conninfo()) as running:
        running.execute("SELECT count(*) FROM master.member")  # now idle in a transaction
        move.move_enqueue(affiliate_id=gym.pk, server_name=second.name, requested_by="pytest")
        wait_for(
            lambda: AffiliateMove.objects.filter(affiliate=gym, state="pausing").exists(),
            timeout=60,
            what="the move's pause",
        )
        first.kill()  # mid-pause: the source still has the gym's only complete copy
        running.rollback()
    assert Affiliate.objects.get(pk=gym.pk).database_server == source
    assert AffiliateMove.objects.get(affiliate=gym).state == "pausing"

    worker_factory()
    queued = reconcile.reconcile(older_than=0)
    assert [item.kind for item in queued] == ["move"]
    wait_for(lambda: AffiliateMove.objects.get(affiliate=gym).state == "done", timeout=90, what="the resumed move")

    done = AffiliateMove.objects.get(affiliate=gym)
    assert done.attempts == 2
    gym = Affiliate.objects.select_related("database_server").get(pk=gym.pk)
    assert gym.database_server == second and gym.write_pause_until is None
    assert "move_resume" in AffiliateEvent.objects.filter(affiliate=gym).values_list("step", flat=True)
    assert _members_on_named(second, gym, "Before")
    assert not _exists_on(source, gym.database_name)


def _members_on_named(server: DatabaseServer, affiliate: Affiliate, first_name: str) -> bool:
    target = on_database(server_admin_target(server), affiliate.database_name)
    with psycopg.connect(**target.conninfo()) as conn:
        return conn.execute("SELECT 1 FROM master.member WHERE first_name = %s", [first_name]).fetchone() is not None


@pytest.mark.cluster
@pytest.mark.worker
def test_staff_move_a_gym_from_the_command_center_and_see_it_on_its_page(clean_registry, worker, request, client):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    gym = affiliate_provisioned()
    second, _restart = request.getfixturevalue("second_server")
    staffer = get_user_model().objects.create_superuser("mover", "mover@fitbuddy.localhost", "a-long-password-1")
    client.force_login(staffer)
    url = reverse("admin:affiliates_affiliate_changelist")

    asked = client.post(url, {"action": "move_to_server", "_selected_action": [gym.pk]})
    assert asked.status_code == 200
    page = asked.content.decode()
    assert "Move gyms to another server?" in page and gym.slug in page and f'value="{second.name}"' in page
    assert not AffiliateMove.objects.exists()  # nothing happens before the confirmation

    done = client.post(
        url,
        {"action": "move_to_server", "_selected_action": [gym.pk], "confirmed": "yes", "server": second.name},
        follow=True,
    )
    assert "1 affiliate queued to move." in done.content.decode()
    wait_for(lambda: AffiliateMove.objects.filter(affiliate=gym, state="done").exists(), timeout=90, what="the move")
    assert Affiliate.objects.get(pk=gym.pk).database_server == second
    gym_page = client.get(reverse("admin:affiliates_affiliate_change", args=[gym.pk])).content.decode()
    assert "moves between servers" in gym_page.lower() and "Done" in gym_page
    assert StaffAudit.objects.filter(action="move", target=gym.slug, actor="mover", outcome="succeeded").exists()
