"""The site's 400/404/500 handlers (smspanel/views.py): OVHcloud's JSON under /1.0, HTML elsewhere."""

import pytest
from django.test import Client

from api.routes import account as account_routes

pytestmark = pytest.mark.django_db


def test_an_unknown_api_path_is_a_json_404(client):
    response = client.get("/1.0/nothing/here", secure=True)
    assert response.status_code == 404
    assert response.json() == {
        "message": "Got an invalid (or empty) URL",
        "errorCode": "NOT_FOUND",
        "httpCode": "404 Not Found",
    }


def test_an_unknown_page_is_django_s_404(client):
    response = client.get("/nothing/here/", secure=True)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_crash_under_the_api_is_a_json_500(api_client, sn, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(account_routes, "count", crash)
    api_client.client = Client(raise_request_exception=False)
    response = api_client.post("/sms/estimate", {"message": "Bonjour"})
    assert response.status_code == 500
    assert response.json() == {
        "message": "Internal server error",
        "errorCode": "INTERNAL_ERROR",
        "httpCode": "500 Internal Server Error",
    }
