"""docker-compose.yml and the Dockerfile, checked as far as a machine without a Docker engine allows."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_defines_the_whole_local_stack():
    services = _compose()["services"]

    assert {"postgres", "postgres2", "moto", "redis", "flyway", "web", "worker"} <= services.keys()
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown service {dependency}"
    assert services["web"]["depends_on"]["flyway"]["condition"] == "service_completed_successfully"
    assert services["worker"]["command"][-3:] == ["fitbuddy", "worker", "--loglevel=INFO"]
    assert services["beat"]["command"][4:7] == ["fitbuddy", "beat", "--loglevel=INFO"]  # the reconciler


def test_compose_redis_keeps_an_append_only_file_on_a_volume():
    redis = _compose()["services"]["redis"]

    assert redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert any(volume.endswith(":/data") for volume in redis["volumes"])


def test_compose_uses_the_original_readme_credentials_everywhere():
    services = _compose()["services"]
    pg = services["postgres"]["environment"]

    # The flyway service (the deploy step) is the owner; the worker administers servers as it.
    for name, variable in (("flyway", "DATABASE_URL"), ("worker", "PROVISIONING_DATABASE_URL")):
        url = urlsplit(services[name]["environment"][variable])
        assert (url.username, url.password, url.path) == (
            pg["POSTGRES_USER"],
            pg["POSTGRES_PASSWORD"],
            "/affiliate-mgt",
        )
        assert url.port == 5432


def test_compose_runs_web_worker_and_beat_as_the_web_login():
    services = _compose()["services"]
    for name in ("web", "worker", "beat"):
        url = urlsplit(services[name]["environment"]["DATABASE_URL"])
        assert (url.username, url.path, url.port) == ("fitbud_web", "/affiliate-mgt", 5432)
    assert "PROVISIONING_DATABASE_URL" not in services["web"]["environment"]
    assert "PROVISIONING_DATABASE_URL" not in services["beat"]["environment"]


def test_compose_seeds_only_through_localhost():
    """The seed guard refuses any host but this machine: the flyway service shares postgres' network."""
    flyway = _compose()["services"]["flyway"]

    assert flyway["network_mode"] == "service:postgres"
    assert urlsplit(flyway["environment"]["DATABASE_URL"]).hostname == "localhost"
    assert flyway["command"][-1] == "start_local_database"


def test_dockerfile_copies_files_that_exist():
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY ") and not line.startswith("COPY . "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"


def test_compose_points_boto3_at_moto_never_real_aws():
    services = _compose()["services"]
    moto_port = services["moto"]["command"][-1]
    for name in ("web", "worker", "flyway"):
        assert services[name]["environment"]["AWS_ENDPOINT_URL"] == f"http://moto:{moto_port}"
    assert services["moto"]["command"][0].endswith("moto_server")
