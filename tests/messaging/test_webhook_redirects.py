"""Customer callbacks go through core.http: its private-address guard holds on every redirect."""

import json

import pytest

from messaging import webhooks
from messaging.models import WebhookDelivery, WebhookSettings
from tests.core.local_server import (
    LocalServers,
    content,
    pretend_public,
    redirect_to,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def serve():
    with LocalServers() as servers:
        yield servers.start


@pytest.fixture
def public(monkeypatch, settings):
    return pretend_public(monkeypatch, settings)


def _queue_stop(account, url):
    WebhookSettings.objects.create(account=account, stop_url=url, secret="k")
    webhooks.enqueue(account_ids_events={account.pk: [{"number": "+33612345678"}]}, kind="stop")


def test_a_redirect_to_the_panels_network_is_not_followed(account, serve, public):
    inside = serve(content(b"internal"))  # 127.0.0.1
    outside = serve(redirect_to(inside.base + "/admin/", 307), host=public)
    _queue_stop(account, outside.base + "/hook")

    assert webhooks.send_due() == 1

    assert len(outside.requests) == 1
    assert inside.requests == []
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert "127.0.0.1 resolves to a private or reserved address" in delivery.last_error


def test_a_redirect_to_a_public_address_is_followed(account, serve, public):
    final = serve(content(b""), host=public)
    first = serve(redirect_to(final.base + "/new-hook", 308), host=public)
    _queue_stop(account, first.base + "/hook")

    webhooks.send_due()

    method, path, headers, body = final.requests[0]
    assert (method, path) == ("POST", "/new-hook")
    assert json.loads(body) == {"events": [{"number": "+33612345678"}]}
    assert headers["X-Smspanel-Signature"] == webhooks.sign("k", body)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == ("done", 200)
