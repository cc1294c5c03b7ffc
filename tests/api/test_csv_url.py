"""POST /sms/{sn}/receivers with csvUrl: fetched once through core.http, redirects refused."""

import pytest

from addressbooks.models import RecipientList
from tests.core.local_server import LocalServers, content, pretend_public, redirect_to

pytestmark = pytest.mark.django_db

CSV = b"number\n+33612345678\n+33612345679\n"


@pytest.fixture
def serve():
    with LocalServers() as servers:
        yield servers.start


@pytest.fixture
def public(monkeypatch, settings):
    return pretend_public(monkeypatch, settings)


def _create(api_client, sn, url, slot=1):
    return api_client.post(f"/sms/{sn}/receivers", {
        "slotId": slot, "description": "Clients", "csvUrl": url})  # fmt: skip


def test_a_list_from_a_public_url(api_client, sn, account, serve, public):
    server = serve(content(CSV), host=public)
    response = _create(api_client, sn, server.base + "/export?format=csv")
    assert response.status_code == 200, response.content
    assert response.json()["records"] == 2
    assert RecipientList.objects.get(account=account).slot == 1
    assert server.requests[0][2]["User-Agent"] == "smspanel"


def test_a_redirect_to_loopback_is_not_followed(api_client, sn, account, serve, public):
    inside = serve(content(CSV))  # 127.0.0.1: refused by the guard
    outside = serve(redirect_to(inside.base + "/x.csv"), host=public)
    response = _create(api_client, sn, outside.base + "/x.csv")
    assert response.status_code == 400
    assert response.json() == {
        "message": "csvUrl could not be read: the server answers with a redirect (HTTP 302), "
        "not followed",
        "errorCode": "INVALID_PARAMETERS",
        "httpCode": "400 Bad Request",
    }
    assert len(outside.requests) == 1
    assert inside.requests == []
    assert not RecipientList.objects.exists()


def test_a_redirect_is_refused_even_to_a_public_address(api_client, sn, serve, public):
    target = serve(content(CSV), host=public)
    server = serve(redirect_to(target.base + "/x.csv", 301), host=public)
    response = _create(api_client, sn, server.base + "/x.csv")
    assert response.status_code == 400
    assert "redirect (HTTP 301)" in response.json()["message"]
    assert target.requests == []


def test_a_file_over_the_limit(api_client, sn, serve, public, settings):
    settings.CONTACT_IMPORT_MAX_BYTES = 1000
    server = serve(content(b"number\n" + b"+33612345678\n" * 200), host=public)
    response = _create(api_client, sn, server.base + "/big.csv")
    assert response.status_code == 400
    assert response.json()["message"] == "csvUrl: the file exceeds 1000 bytes"
    assert response.json()["errorCode"] == "TOO_LARGE"


def test_an_error_status(api_client, sn, serve, public):
    server = serve(content(b"gone", status=404), host=public)
    response = _create(api_client, sn, server.base + "/x.csv")
    assert response.status_code == 400
    assert response.json()["message"] == "csvUrl could not be read: HTTP Error 404: Not Found"
