"""The production posture: settings that pass `check --deploy`, no silent environment, gunicorn with
WhiteNoise, health endpoints for load balancers, and services bound to this machine."""

from __future__ import annotations

import re
import secrets
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.test import Client

from affiliates.models import DatabaseServer
from tests.conftest import Worker, host, wait_for

ROOT = Path(settings.BASE_DIR)

PRODUCTION = {
    "FITBUDDY_ENV": "production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": ".fitbuddy.example",
    "MANAGEMENT_HOSTS": "admin.fitbuddy.example",
    "DATABASE_URL": "postgres://fitbud:password1@localhost:5432/affiliate-mgt",
    "REDIS_URL": "redis://localhost:6379/0",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in Worker().env.items() if not k.startswith(("DJANGO_", "FITBUDDY_ENV", "MANAGEMENT_"))}
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_in_production():
    done = _manage("check", "--deploy", env=PRODUCTION)
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


@pytest.mark.parametrize("missing", ["MANAGEMENT_HOSTS", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_its_settings(missing):
    done = _manage("check", env={k: v for k, v in PRODUCTION.items() if k != missing})
    assert done.returncode != 0 and missing in done.stderr


def test_fitbuddy_env_has_no_silent_default_outside_a_checkout(tmp_path):
    """Outside a git work tree (an image, an install), an unset FITBUDDY_ENV is an error, not `local`."""
    (tmp_path / "fitbuddy").mkdir()
    shutil.copy(ROOT / "fitbuddy" / "settings.py", tmp_path / "fitbuddy" / "settings.py")
    code = "import runpy; runpy.run_path('fitbuddy/settings.py')"
    env = {k: v for k, v in Worker().env.items() if k != "FITBUDDY_ENV"}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "FITBUDDY_ENV" in done.stderr
    (tmp_path / ".git").mkdir()  # a developer's checkout: local by default
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_image_names_no_environment_and_serves_with_gunicorn():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert not re.search(r"^ENV .*FITBUDDY_ENV", dockerfile, re.MULTILINE)
    assert "gunicorn fitbuddy.wsgi:application" in dockerfile and "collectstatic" in dockerfile
    assert "runserver" not in dockerfile
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert services["web"]["command"][0].endswith("gunicorn")
    for name, service in services.items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond this machine"
    assert 'runserver "127.0.0.1:' in (ROOT / "tools" / "run.sh").read_text()


@pytest.mark.django_db(transaction=True)
def test_health_endpoints_answer_any_host_and_readyz_names_what_failed(clean_registry):
    client = Client(HTTP_HOST="10.1.2.3:8000")  # a load balancer probes the instance's address
    alive = client.get("/healthz")
    assert alive.status_code == 200 and alive.json() == {"status": "alive"}

    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.content
    assert ready.json()["checks"]["management_database"] == "ok" and ready.json()["checks"]["redis"] == "ok"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    DatabaseServer.objects.create(name="gone", host="127.0.0.1", port=closed, admin_secret_ref="env:DATABASE_URL")
    DatabaseServer.objects.create(
        name="drained", host="127.0.0.1", port=closed, admin_secret_ref="env:DATABASE_URL", is_accepting=False
    )
    ready = client.get("/readyz")
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["database_server:gone"] == "failed" and "database_server:drained" not in checks
    assert "refused" not in ready.content.decode()  # why goes to the log, not to whoever asked


@pytest.mark.django_db(transaction=True)
def test_gunicorn_serves_the_gyms_the_command_center_static_files_and_health(gyms):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = ROOT / ".local" / f"test-gunicorn-{port}.log"
    env = Worker().env
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "fitbuddy.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "4"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip

    def get(path: str, hostname: str) -> tuple[int, str]:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": hostname})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")
        except OSError:
            return 0, ""

    try:
        wait_for(lambda: get("/healthz", "10.0.0.1")[0] == 200, timeout=30, what="gunicorn to answer")
        assert get("/readyz", "10.0.0.1")[0] == 200
        status, page = get("/login/", host(gyms.a))
        assert status == 200 and "Log in to Gym A" in page
        status, page = get("/admin/login/", "admin.localhost")
        assert status == 200 and "FitBuddy command center" in page
        status, css = get("/static/admin/css/base.css", "admin.localhost")  # WhiteNoise
        assert status == 200 and "body" in css
    finally:
        process.terminate()
        process.wait(timeout=30)
