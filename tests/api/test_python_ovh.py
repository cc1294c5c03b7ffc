"""The unmodified `ovh` package from PyPI, pointed at a live smspanel: what an OVHcloud script
does, end to end, changing only the endpoint and the keys."""

from datetime import timedelta
from decimal import Decimal

import ovh
import pytest
from django.utils import timezone

from accounts.models import SmsAccount
from api import services
from api.models import ConsumerKey
from messaging.models import OutgoingMessage
from messaging.operator.simulated import deliver_due_events
from senders.models import Sender

from .conftest import make_key

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def endpoint(live_server, settings, monkeypatch, eager_celery):
    settings.ALLOWED_HOSTS = ["*"]
    monkeypatch.setitem(ovh.client.ENDPOINTS, "smspanel", live_server.url + "/1.0")
    return "smspanel"


@pytest.fixture
def client(endpoint, account, owner):
    app, secret, _ck, key = make_key(account, owner)
    return ovh.Client(
        endpoint=endpoint, application_key=app.app_key, application_secret=secret,
        consumer_key=key,
    )  # fmt: skip


def credits(account) -> Decimal:
    return SmsAccount.objects.get(pk=account.pk).credits


def test_the_account_and_its_credits(client, account):
    assert client.get("/sms") == [account.name]
    info = client.get(f"/sms/{account.name}")
    assert info["name"] == account.name
    assert info["creditsLeft"] == 100.0
    assert info["status"] == "enable"


def test_estimate_uses_the_encoding_engine(client):
    assert client.post("/sms/estimate", message="a" * 161, noStopClause=True,
                       senderType="alpha") == {  # fmt: skip
        "characters": 161, "charactersClass": "7bits", "maxCharactersPerPart": 153, "parts": 2,
    }  # fmt: skip
    euro = client.post("/sms/estimate", message="Prix : 5 €", noStopClause=False,
                       senderType="alpha")  # fmt: skip
    # "€" is two septets; the STOP clause ("\nSTOP:36111", 11 septets) is counted.
    assert euro == {"characters": 22, "charactersClass": "7bits", "maxCharactersPerPart": 160,
                    "parts": 1}  # fmt: skip
    assert client.post("/sms/estimate", message="Ça va 🙂", noStopClause=True,
                       senderType="alpha")["charactersClass"] == "unicode"  # fmt: skip


def test_send_then_read_the_delivery_status(client, account):
    report = client.post(
        f"/sms/{account.name}/jobs",
        message="Votre code : 1234",
        receivers=["+33612345678", "0612345679", "not a number"],
        noStopClause=True,
        senderForResponse=True,
        priority="high",
        validityPeriod=2880,
        charset="UTF-8",
        coding="7bit",
        tag="otp",
    )
    assert report["validReceivers"] == ["+33612345678", "+33612345679"]
    assert report["invalidReceivers"] == ["not a number"]
    assert report["totalCreditsRemoved"] == 2.0
    assert len(report["ids"]) == 2
    assert credits(account) == Decimal("98.00")

    # The simulated operator answers with delivery reports once they are due.
    assert deliver_due_events(now=timezone.now() + timedelta(minutes=5)) == 2
    sms = client.get(f"/sms/{account.name}/outgoing/{report['ids'][0]}")
    assert sms["receiver"] == "+33612345678"
    assert sms["deliveryReceipt"] == 1
    assert sms["ptt"] == 1
    assert sms["deliveredAt"] is not None
    assert sms["message"] == "Votre code : 1234"
    assert sms["tag"] == "otp"
    assert client.get(f"/sms/{account.name}/outgoing", receiver="+33612345679") == [
        report["ids"][1]
    ]
    assert client.get(f"/sms/{account.name}/outgoing", tag="otp", deliveryReceipt=1) == sorted(
        report["ids"], reverse=True
    )
    assert client.get(f"/sms/{account.name}/jobs") == []


def test_a_deferred_job_is_listed_and_cancelled_with_its_credits_back(client, account):
    report = client.post(
        f"/sms/{account.name}/jobs",
        message="Rappel : rendez-vous demain",
        receivers=["+33612345678"],
        noStopClause=True,
        differedPeriod=120,
    )
    (job_id,) = report["ids"]
    assert credits(account) == Decimal("99.00")
    assert client.get(f"/sms/{account.name}/jobs") == [job_id]
    job = client.get(f"/sms/{account.name}/jobs/{job_id}")
    assert job["receiver"] == "+33612345678"
    assert 119 <= job["differedDelivery"] <= 120
    assert job["deliveryReceipt"] == 0

    assert client.delete(f"/sms/{account.name}/jobs/{job_id}") is None
    assert credits(account) == Decimal("100.00")
    assert client.get(f"/sms/{account.name}/jobs") == []
    with pytest.raises(ovh.exceptions.ResourceNotFoundError):
        client.get(f"/sms/{account.name}/jobs/{job_id}")
    assert OutgoingMessage.objects.get(pk=job_id).status == OutgoingMessage.Status.CANCELLED


def test_a_retry_with_an_idempotency_key_and_repeated_reads(client, account):
    """python-ovh's raw_call passes the Idempotency-Key header; its call() signs with a
    one-second timestamp, so identical reads within one second carry one signature."""
    path = f"/sms/{account.name}/jobs"
    body = {"message": "Bonjour", "receivers": ["+33612345678"], "noStopClause": True}
    key = {"Idempotency-Key": "retry-1"}

    first = client.raw_call("POST", path, body, headers=dict(key))
    retry = client.raw_call("POST", path, body, headers=dict(key))

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert credits(account) == Decimal("99.00")
    reads = [client.get(f"/sms/{account.name}") for _ in range(5)]
    assert {r["name"] for r in reads} == {account.name}


def test_request_a_sender(client, account):
    created = client.post(f"/sms/{account.name}/senders", sender="MaBoutique",
                          description="Boutique", reason="Notre enseigne")  # fmt: skip
    assert created == "MaBoutique"  # OVHcloud answers a string
    assert client.get(f"/sms/{account.name}/senders/MaBoutique")["status"] == "waitingValidation"
    sender = Sender.objects.get(account=account, sender="MaBoutique")
    assert sender.reason == "Notre enseigne"
    assert client.get(f"/sms/{account.name}/senders") == ["MaBoutique"]
    with pytest.raises(ovh.exceptions.BadParametersError, match="11"):
        client.post(f"/sms/{account.name}/senders", sender="MuchTooLongName", reason="x")


def test_errors_are_python_ovh_exceptions(endpoint, client, account, outsider, owner):
    foreign = outsider.memberships.first().account
    with pytest.raises(ovh.exceptions.ResourceNotFoundError):
        client.get(f"/sms/{foreign.name}")
    with pytest.raises(ovh.exceptions.BadParametersError, match="credit"):
        client.post(f"/sms/{account.name}/jobs", message="x" * 5000,
                    receivers=["+33612345678"] * 1 + [f"+3361234{i:04d}" for i in range(60)])  # fmt: skip

    app, secret, _ck, key = make_key(account, owner, rules=services.READ_ONLY)
    reader = ovh.Client(endpoint=endpoint, application_key=app.app_key,
                        application_secret=secret, consumer_key=key)  # fmt: skip
    assert reader.get(f"/sms/{account.name}")["name"] == account.name
    with pytest.raises(ovh.exceptions.NotGrantedCall):
        reader.post(f"/sms/{account.name}/jobs", message="x", receivers=["+33612345678"])

    forged = ovh.Client(endpoint=endpoint, application_key=app.app_key,
                        application_secret="not-the-secret", consumer_key=key)  # fmt: skip
    with pytest.raises(ovh.exceptions.BadParametersError, match="signature"):
        forged.get("/sms")
    ConsumerKey.objects.filter(key_hash__isnull=False).update(status=ConsumerKey.Status.REVOKED)
    with pytest.raises(ovh.exceptions.InvalidCredential):
        reader.get("/sms")


def test_request_a_consumer_key_then_use_it_once_validated(endpoint, account, owner):
    app, secret = services.application_create(account=account, user=owner, name="cron")
    client = ovh.Client(endpoint=endpoint, application_key=app.app_key, application_secret=secret)
    request = client.new_consumer_key_request()
    request.add_rules(ovh.API_READ_ONLY, "/sms*")
    answer = request.request(redirect_url="https://example.com/done")
    assert answer["state"] == "pendingValidation"
    assert "/auth/validate/" in answer["validationUrl"]
    ck = ConsumerKey.objects.get(application=app)
    assert ck.access_rules == [{"method": m, "path": "/sms*"} for m in ovh.API_READ_ONLY]

    with pytest.raises(ovh.exceptions.NotCredential):
        client.get("/sms")
    services.credential_validate(ck, user=owner, expires_at=None)
    assert client.get("/sms") == [account.name]
    assert client.get("/auth/currentCredential")["status"] == "validated"


def test_a_recipient_list_from_an_uploaded_document_and_from_its_url(client, account, settings):
    import requests

    settings.CALLBACKS_ALLOW_PRIVATE = True  # csvUrl points at this test server
    doc = client.post("/me/document", name="clients.csv")
    put = requests.put(doc["putUrl"], data=b"number\n+33612345678\n+33612345679\n", timeout=10)
    assert put.status_code == 200
    first = client.post(f"/sms/{account.name}/receivers", slotId=1, description="Clients",
                        autoUpdate=False, documentId=doc["id"])  # fmt: skip
    assert first["records"] == 2
    second = client.post(f"/sms/{account.name}/receivers", slotId=2, description="Copie",
                         autoUpdate=False, csvUrl=doc["getUrl"])  # fmt: skip
    assert second["records"] == 2
    assert client.get(f"/sms/{account.name}/receivers") == [1, 2]

    report = client.post(f"/sms/{account.name}/jobs", message="Promo", receiversSlotId="2",
                         noStopClause=True, differedPeriod=60)  # fmt: skip
    assert sorted(report["validReceivers"]) == ["+33612345678", "+33612345679"]
