import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.urls import reverse
from django.utils import timezone

from core import recipients
from core.http import UnsafeURL, check_url
from messaging import dispatch, services, webhooks
from messaging import reports as received
from messaging.models import OutgoingMessage, WebhookDelivery, WebhookSettings

pytestmark = pytest.mark.django_db


class Receiver:
    """A local HTTP server answering with the given status codes, in order."""

    def __init__(self, codes):
        self.codes = list(codes)
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.codes.pop(0) if receiver.codes else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver(settings):
    settings.CALLBACKS_ALLOW_PRIVATE = True  # the test server is on loopback
    servers = []

    def make(*codes):
        servers.append(Receiver(codes))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def submitted_job(account, owner, scripted_operator):
    job = services.job_submit(
        account=account,
        user=owner,
        message="Hello",
        parsed=recipients.parse("+33612345671\n+33612345672", "FR"),
        stop_clause=False,
    )
    dispatch.pump()
    return job


def test_delivery_reports_are_posted_signed(account, owner, scripted_operator, receiver):
    server = receiver(200)
    WebhookSettings.objects.create(account=account, delivery_url=server.url, secret="s3cret")
    job = submitted_job(account, owner, scripted_operator)
    reports = [
        {"operator_id": m.operator_id, "status": "delivered", "at": "2026-11-25T10:00:00+00:00"}
        for m in OutgoingMessage.objects.filter(job=job)
    ]
    received.delivery_reports_receive(reports=reports)
    received.delivery_reports_receive(reports=reports)  # duplicates: no second event

    assert webhooks.send_due() == 1
    headers, body = server.requests[0]
    assert headers["X-Smspanel-Signature"] == hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    events = json.loads(body)["events"]
    assert sorted(e["receiver"] for e in events) == ["+33612345671", "+33612345672"]
    assert {e["status"] for e in events} == {"delivered"}
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("done", 1, 200)


def test_failures_are_retried_with_backoff_then_given_up(account, receiver):
    server = receiver(500, 503)
    WebhookSettings.objects.create(account=account, stop_url=server.url, secret="k")
    webhooks.enqueue(account_ids_events={account.pk: [{"number": "+33612345678"}]}, kind="stop")
    delivery = WebhookDelivery.objects.get()

    webhooks.send_due()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    first_wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=20) < first_wait <= timedelta(seconds=30)
    assert webhooks.send_due() == 0  # not due yet

    webhooks.send_due(now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code) == (2, 503)
    assert delivery.next_attempt_at - timezone.now() > first_wait  # backing off

    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        created_at=timezone.now() - timedelta(hours=24)
    )
    server.codes = [500]
    webhooks.send_due(now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert delivery.status == "failed"


def test_a_stop_reply_is_posted_to_the_stop_url(account, owner, scripted_operator, receiver):
    server = receiver(204)
    WebhookSettings.objects.create(account=account, stop_url=server.url, secret="k")
    job = submitted_job(account, owner, scripted_operator)
    message = OutgoingMessage.objects.filter(job=job).first()
    received.incoming_messages_receive(
        replies=[{"operator_id": message.operator_id, "text": "STOP"}]
    )
    webhooks.send_due()
    assert json.loads(server.requests[0][1])["events"][0]["number"] == message.receiver
    assert WebhookDelivery.objects.get().status == "done"


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/x", "http://localhost/x", "http://10.0.0.5/x", "http://[::1]/x",
     "http://169.254.169.254/latest", "ftp://example.com/x"],
)  # fmt: skip
def test_private_and_non_http_urls_are_refused(url, settings):
    settings.CALLBACKS_ALLOW_PRIVATE = False
    with pytest.raises(UnsafeURL):
        check_url(url)


def test_settings_page_shows_the_secret_once(owner_client, account, settings):
    settings.CALLBACKS_ALLOW_PRIVATE = True
    url = reverse("messaging:webhooks", args=[account.name])
    response = owner_client.post(url, {"delivery_url": "http://127.0.0.1:9/dlr", "stop_url": ""})
    secret = WebhookSettings.objects.get(account=account).secret
    assert secret in response.content.decode()
    assert secret not in owner_client.get(url).content.decode()

    settings.CALLBACKS_ALLOW_PRIVATE = False
    response = owner_client.post(url, {"delivery_url": "http://192.168.1.10/dlr", "stop_url": ""})
    assert 'class="field-errors"' in response.content.decode()
    assert WebhookSettings.objects.get(account=account).delivery_url == "http://127.0.0.1:9/dlr"


def test_outsider_gets_404(client, outsider, account):
    client.force_login(outsider)
    assert client.get(reverse("messaging:webhooks", args=[account.name])).status_code == 404


def test_the_old_address_of_the_settings_page_leads_to_it(owner_client, client, outsider, account):
    old = f"/sms/{account.name}/callbacks/"

    response = owner_client.get(old)

    assert response.status_code == 301
    assert response["Location"] == reverse("messaging:webhooks", args=[account.name])
    client.force_login(outsider)
    assert client.get(old).status_code == 404
