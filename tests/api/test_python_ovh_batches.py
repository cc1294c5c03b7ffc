"""The unmodified `ovh` package reads a campaign made in the panel (two variants, a tracked
link) and its statistics through /batches, and creates and cancels one."""

from datetime import timedelta

import ovh
import pytest
from django.test import Client
from django.utils import timezone

from messaging import campaigns, dispatch
from messaging.models import ShortLink

from .conftest import make_key

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client(live_server, settings, monkeypatch, eager_celery, account, owner):
    settings.ALLOWED_HOSTS = ["*"]
    monkeypatch.setitem(ovh.client.ENDPOINTS, "smspanel", live_server.url + "/1.0")
    app, secret, _ck, key = make_key(account, owner)
    return ovh.Client(
        endpoint="smspanel", application_key=app.app_key, application_secret=secret,
        consumer_key=key,
    )  # fmt: skip


def test_python_ovh_reads_a_panel_campaign(client, account, owner):
    campaign = campaigns.campaign_create(
        account=account,
        user=owner,
        name="Soldes",
        variants=[
            {"message": "A https://shop.example.com/a", "share": 50},
            {"message": "B https://shop.example.com/b", "share": 50},
        ],
        audience={"typed": "+33612345671\n+33612345672\n+33612345673\n+33612345674"},
        stop_clause=False,
        track_links=True,
    )  # the task ran eagerly on commit (transactional test)
    dispatch.pump(budget=5)
    link = ShortLink.objects.filter(job__variant="B").first()
    assert Client().get(f"/l/{link.code}").status_code == 302

    batches = client.get(f"/sms/{account.name}/batches")
    assert [(b["id"], b["name"]) for b in batches] == [(str(campaign.uuid), "Soldes")]
    assert batches[0]["status"] in ("PENDING", "COMPLETED")
    one = client.get(f"/sms/{account.name}/batches/{campaign.uuid}")
    assert one["estimatedCredits"] == 4.0 and one["totalRecords"] == 4
    stats = client.get(f"/sms/{account.name}/batches/{campaign.uuid}/statistics")
    assert (stats["sent"], stats["pending"], stats["credits"]) == (4, 0, 4.0)


def test_python_ovh_creates_and_cancels(client, account):
    batch = client.post(
        f"/sms/{account.name}/batches", message="Plus tard", to=["+33612345671"], noStop=True,
        deferred=(timezone.now() + timedelta(days=30)).isoformat(), name="Été",
    )  # fmt: skip
    assert batch["name"] == "Été"
    assert client.get(f"/sms/{account.name}/batches/{batch['id']}")["status"] == "INSERTED"
    assert client.post(f"/sms/{account.name}/batches/{batch['id']}/cancel")["status"] == "CANCELED"
    client.put(f"/sms/{account.name}/batches/{batch['id']}", name="Été (annulé)")
    client.delete(f"/sms/{account.name}/batches/{batch['id']}")
    assert client.get(f"/sms/{account.name}/batches") == []


def test_python_ovh_retries_a_batch_with_an_idempotency_key(client, account):
    """raw_call passes the header; a retry within the same second is the same signed request,
    let through because its answer is stored. Another body under the key is refused."""
    from messaging.models import Campaign

    path = f"/sms/{account.name}/batches"
    body = {"message": "Promo", "to": ["+33612345671", "+33612345672"], "noStop": True}
    key = {"Idempotency-Key": "batch-retry-1"}

    first = client.raw_call("POST", path, body, headers=dict(key))
    retry = client.raw_call("POST", path, body, headers=dict(key))
    other = client.raw_call("POST", path, {**body, "message": "Autre"}, headers=dict(key))

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert other.status_code == 409
    assert other.json()["errorCode"] == "IDEMPOTENCY_KEY_REUSED"
    assert Campaign.objects.count() == 1
    assert [b["id"] for b in client.get(path)] == [first.json()["id"]]
