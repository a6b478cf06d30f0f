"""Routing changes take effect at once in every web process, and nothing hangs (issue 19, part 3).

Each test starts a real gunicorn process on the test management database and the test Redis, and
changes routing from this process (another process, as an operator's command or the command center
would be): the server must route by the change on its very next request.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from affiliates.infra.targets import affiliate_target
from affiliates.models import Domain
from affiliates.operations import lifecycle
from tests.conftest import Worker, client_for, host, pooler_show, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn (1 worker, 4 threads) serving the test management database, as production runs it."""

    def __init__(self, tmp_path: Path, **env: str) -> None:
        self.port = _free_port()
        self.log = tmp_path / "gunicorn.log"
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "fitbuddy.wsgi:application",
             "--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--threads", "4", "--worker-class", "gthread"],
            cwd=settings.BASE_DIR,
            env={**Worker().env, "DJANGO_DEBUG": "0", **env},
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        wait_for(lambda: self._health() == 200, timeout=60, what=f"gunicorn on {self.port} (log: {self.log})")

    def _health(self) -> int:
        try:
            return self.get("127.0.0.1", "/healthz", timeout=2)[0]
        except OSError:
            return 0

    def get(self, hostname: str, path: str, *, cookie: str = "", timeout: float = 30) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Host": hostname, **({"Cookie": f"sessionid={cookie}"} if cookie else {})}
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            return response.status, response.read().decode(errors="replace")
        finally:
            connection.close()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def server_factory(tmp_path):
    started: list[Server] = []

    def start(**env: str) -> Server:
        started.append(Server(tmp_path, **env))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def test_a_domain_moved_in_one_process_routes_to_the_new_gym_at_once_in_another(gyms, server_factory):
    server = server_factory()
    hostname = host(gyms.a)
    status, page = server.get(hostname, "/login/")
    assert status == 200 and "Log in to Gym A" in page  # the server has cached the host as gym A's

    domain = Domain.objects.get(domain=hostname)
    domain.tenant = gyms.b
    domain.save()

    status, page = server.get(hostname, "/login/")
    assert status == 200 and "Log in to Gym B" in page, "the other process still routes the moved domain to gym A"


def test_a_deleted_domain_stops_routing_at_once_in_another_process(gyms, server_factory):
    server = server_factory()
    hostname = host(gyms.a)
    assert server.get(hostname, "/login/")[0] == 200
    Domain.objects.filter(domain=hostname).get().delete()
    assert server.get(hostname, "/login/")[0] == 404


def test_a_suspended_gyms_next_request_in_another_process_gets_503_at_once(gyms, server_factory):
    server = server_factory()
    hostname = host(gyms.a)
    assert server.get(hostname, "/login/")[0] == 200

    lifecycle.affiliate_suspend(affiliate_id=gyms.a.pk, requested_by="test")

    status, page = server.get(hostname, "/login/")
    assert status == 503 and "suspended" in page
    lifecycle.affiliate_resume(affiliate_id=gyms.a.pk, requested_by="test")
    wait_for(lambda: server.get(hostname, "/login/")[0] == 200, timeout=5, what="the resumed gym to answer")


def _pool_held(affiliate, pooler: str, count: int) -> list[psycopg.Connection]:
    """``count`` clients of the gym's role through the pooler, each inside a transaction: its pool full."""
    target = affiliate_target(affiliate)
    pooler_host, _, pooler_port = pooler.rpartition(":")
    held = []
    for _ in range(count):
        conn = psycopg.connect(
            host=pooler_host, port=int(pooler_port), dbname=target.name, user=target.user,
            password=target.password, prepare_threshold=None, connect_timeout=5,
        )  # fmt: skip
        conn.execute("SELECT 1")  # a transaction stays open: transaction pooling keeps its server connection
        held.append(conn)
    return held


def test_a_request_waiting_in_the_pooler_when_its_gym_is_suspended_gets_503_within_seconds(
    gyms, server_factory, pooler, settings
):
    settings.DATABASE_POOLER = pooler  # this process's lifecycle finds the gym's pooler as the server does
    server = server_factory(DATABASE_POOLER=pooler)
    hostname = host(gyms.a)
    cookie = client_for(gyms.a, gyms.owner_a).cookies["sessionid"].value
    assert server.get(hostname, "/members/", cookie=cookie)[0] == 200  # its connection to the pooler is open

    held = _pool_held(gyms.a, pooler, int(os.environ.get("FITBUDDY_POOLER_POOL_SIZE", "20")))
    answer: dict[str, object] = {}

    def request() -> None:
        started = time.monotonic()
        try:
            answer["status"] = server.get(hostname, "/members/", cookie=cookie, timeout=60)[0]
        except OSError as exc:
            answer["status"] = repr(exc)
        answer["ended"] = time.monotonic()
        answer["seconds"] = answer["ended"] - started

    waiting = threading.Thread(target=request)
    try:
        waiting.start()
        # The request's query now waits in the pooler for a server connection.
        wait_for(
            lambda: any(
                pool["database"] == gyms.a.database_name and pool["cl_waiting"] > 0 for pool in pooler_show("POOLS")
            ),
            timeout=10,
            what="the request to wait in the pooler",
        )
        assert "status" not in answer, f"the request did not wait in the pooler: {answer}"
        suspended_at = time.monotonic()
        lifecycle.affiliate_suspend(affiliate_id=gyms.a.pk, requested_by="test")
        waiting.join(timeout=30)
    finally:
        for conn in held:
            conn.close()
    waiting.join(timeout=120)
    assert answer.get("status") == 503, f"the waiting request got {answer.get('status')} (log: {server.log})"
    assert answer["ended"] - suspended_at < 5, f"the waiting request hung {answer['ended'] - suspended_at:.1f} s"


def test_with_redis_unreachable_a_moved_domain_routes_anew_within_the_fallback_lifetime(gyms, server_factory):
    server = server_factory(REDIS_URL="redis://127.0.0.1:1/1", ROUTING_FALLBACK_CACHE_SECONDS="1")  # refused
    hostname = host(gyms.a)
    assert "Log in to Gym A" in server.get(hostname, "/login/")[1]

    domain = Domain.objects.get(domain=hostname)
    domain.tenant = gyms.b
    domain.save()
    moved = time.monotonic()

    wait_for(lambda: "Log in to Gym B" in server.get(hostname, "/login/")[1], timeout=5, what="the move to be seen")
    assert time.monotonic() - moved < 2.5, "stale routing outlived the fallback lifetime with Redis down"
