"""With DEBUG on, an error page about a failed connection shows no password: not the affiliate role's,
not the management database's, not the secret key, wherever they sit (settings, META, frames)."""

from __future__ import annotations

import socket

import pytest
from django.conf import settings as django_settings

from affiliates.infra.targets import affiliate_target, management_target
from affiliates.models import Affiliate, DatabaseServer
from affiliates.routing.connections import forget_all
from fitbuddy.error_reports import SUBSTITUTE, scrub
from tests.conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again once the probe is: nothing listens there


def test_the_debug_page_of_a_failed_affiliate_connection_shows_no_password(gyms, settings):
    role_password = affiliate_target(gyms.a).password
    management_password = management_target().password
    assert role_password and management_password
    client = client_for(gyms.a, gyms.owner_a, raise_request_exception=False)
    client.defaults["DATABASE_URL"] = f"postgres://fitbud:{management_password}@localhost/affiliate-mgt"
    DatabaseServer.objects.filter(pk=gyms.a.database_server_id).update(port=_closed_port())
    Affiliate.objects.clear_host_cache()
    forget_all()
    settings.DEBUG = True

    response = client.get("/")

    assert response.status_code == 500
    page = response.content.decode()
    assert "OperationalError" in page and "connection" in page  # the real failure, on the technical page
    assert "get_new_connection" in page  # with the frames that held the role's settings
    for secret in (role_password, management_password, django_settings.SECRET_KEY):
        assert secret not in page
    assert SUBSTITUTE in page


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("host=db port=5432 user=fitbuddy_x password=s3cr3t-value dbname=x", "s3cr3t-value"),
        ("host=db password='quoted s3cr3t' dbname=x", "quoted s3cr3t"),
        ("{'PASSWORD': 's3cr3t-value', 'HOST': 'db'}", "s3cr3t-value"),
        ("postgres://fitbud:s3cr3t-value@db:5432/x", "s3cr3t-value"),
        ("jdbc:postgresql://db/x?user=a&password=s3cr3t-value&ssl=true", "s3cr3t-value"),
        ("PGPASSWORD=s3cr3t-value flyway migrate", "s3cr3t-value"),
    ],
)
def test_scrub_hides_a_password_wherever_a_text_carries_it(text, hidden):
    assert hidden not in scrub(text)
    assert scrub("host=db port=5432 dbname=x") == "host=db port=5432 dbname=x"
