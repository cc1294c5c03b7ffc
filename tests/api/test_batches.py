"""/batches: campaigns through OVHcloud's API shapes, with the signed test client."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from messaging import dispatch
from messaging.models import Campaign, OutgoingMessage

pytestmark = pytest.mark.django_db

TO = ["+33612345671", "+33612345672", "+33612345673"]


@pytest.fixture(autouse=True)
def eager(settings):
    from smspanel.celery import app

    settings.SMS_OPERATOR = {"BACKEND": "tests.messaging.fakes.ScriptedOperator"}
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def create(api_client, sn, django_capture_on_commit_callbacks, headers=None, **body):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            f"/sms/{sn}/batches", {"message": "Promo", "noStop": True, **body}, headers=headers
        )
    return response


def test_it_creates_reads_and_counts_a_batch(api_client, sn, django_capture_on_commit_callbacks):
    response = create(api_client, sn, django_capture_on_commit_callbacks, name="Noël", to=[*TO, "x"])
    assert response.status_code == 200, response.content
    batch = response.json()
    assert batch["status"] == "INSERTING" and batch["name"] == "Noël"
    uuid = batch["id"]
    got = api_client.get(f"/sms/{sn}/batches/{uuid}").json()
    assert got["status"] == "PENDING"
    assert got["estimatedCredits"] == 3.0
    assert got["errors"] == [{"message": got["errors"][0]["message"], "receiver": "x"}]
    dispatch.pump(budget=5)
    stats = api_client.get(f"/sms/{sn}/batches/{uuid}/statistics").json()
    assert stats == {
        "id": uuid, "credits": 3.0, "estimatedCredits": 3.0, "sent": 3, "delivered": 0,
        "failed": 0, "pending": 0, "stoplisted": 0,
    }  # fmt: skip
    assert [b["id"] for b in api_client.get(f"/sms/{sn}/batches").json()] == [uuid]
    renamed = api_client.put(f"/sms/{sn}/batches/{uuid}", {"name": "Noël 2026"}).json()
    assert renamed["name"] == "Noël 2026"


def test_cancel_refunds_and_delete_needs_a_finished_batch(
    api_client, sn, account, django_capture_on_commit_callbacks
):
    later = (timezone.now() + timedelta(days=30)).isoformat()
    uuid = create(api_client, sn, django_capture_on_commit_callbacks, to=TO,
                  deferred=later).json()["id"]  # fmt: skip
    assert api_client.get(f"/sms/{sn}/batches/{uuid}").json()["status"] == "INSERTED"
    refused = api_client.delete(f"/sms/{sn}/batches/{uuid}")
    assert refused.status_code == 400
    cancelled = api_client.post(f"/sms/{sn}/batches/{uuid}/cancel").json()
    assert cancelled["status"] == "CANCELED"
    account.refresh_from_db()
    assert account.credits == Decimal("100.00")
    api_client.time_offset = 1  # the same calls again, signed anew (a copy is a replay)
    assert api_client.post(f"/sms/{sn}/batches/{uuid}/cancel").status_code == 400
    assert api_client.delete(f"/sms/{sn}/batches/{uuid}").status_code == 200
    assert not Campaign.objects.exists()
    assert OutgoingMessage.objects.filter(status="cancelled").count() == 3  # history kept


def test_it_refuses_bad_input_and_other_accounts(api_client, sn, outsider):
    assert api_client.post(f"/sms/{sn}/batches", {"message": "x"}).status_code == 400
    assert api_client.post(f"/sms/{sn}/batches", {"message": "x", "to": TO, "from": "NOPE"}).json()[
        "errorCode"
    ] == "INVALID_SENDER"
    assert api_client.get(f"/sms/{sn}/batches/00000000-0000-0000-0000-000000000000").status_code == 404
    assert api_client.get(f"/sms/{sn}/batches/not-a-uuid").status_code in (400, 404)
    other = Campaign.objects.create(
        account=outsider.memberships.first().account, name="x", start_at="2026-01-01T00:00Z"
    )
    assert api_client.get(f"/sms/{sn}/batches/{other.uuid}").status_code == 404


def test_outgoing_messages_carry_the_batch_id(api_client, sn, django_capture_on_commit_callbacks):
    uuid = create(api_client, sn, django_capture_on_commit_callbacks, to=TO).json()["id"]
    dispatch.pump(budget=5)
    ids = api_client.get(f"/sms/{sn}/outgoing?batchID={uuid}").json()
    assert len(ids) == 3
    assert api_client.get(f"/sms/{sn}/outgoing/{ids[0]}").json()["batchID"] == uuid


class TestIdempotencyKey:
    """POST /batches honours an Idempotency-Key as POST /jobs does (api.routes.base)."""

    def test_a_retry_with_the_key_gets_the_first_answer_and_creates_nothing(
        self, api_client, sn, account, django_capture_on_commit_callbacks
    ):
        key = {"Idempotency-Key": "b7c1e0d2-batch"}
        body = {"message": "Promo", "noStop": True, "to": TO, "name": "Soldes"}
        with django_capture_on_commit_callbacks(execute=True):
            first = api_client.post(f"/sms/{sn}/batches", body, headers=key)
        api_client.time_offset = 1  # the retry is signed anew, as python-ovh would
        with django_capture_on_commit_callbacks(execute=True) as queued:
            retry = api_client.post(f"/sms/{sn}/batches", body, headers=key)

        assert first.status_code == retry.status_code == 200
        assert retry.json() == first.json()
        assert retry.json()["status"] == "INSERTING"  # the answer as it was, not re-read
        assert Campaign.objects.count() == 1
        assert queued == []  # no second preparation
        assert OutgoingMessage.objects.count() == 3
        assert account.movements.filter(kind="debit").count() == 1

    def test_the_key_cannot_be_reused_for_another_batch(
        self, api_client, sn, django_capture_on_commit_callbacks
    ):
        key = {"Idempotency-Key": "k-batch"}
        first = create(api_client, sn, django_capture_on_commit_callbacks, to=TO, headers=key)
        api_client.time_offset = 1

        other = create(api_client, sn, django_capture_on_commit_callbacks, to=TO[:1], headers=key)

        assert first.status_code == 200
        assert other.status_code == 409
        error = other.json()
        assert error["errorCode"] == "IDEMPOTENCY_KEY_REUSED"
        assert error["httpCode"] == "409 Conflict"
        assert error["message"] == "This Idempotency-Key was used for another request"
        assert Campaign.objects.count() == 1

    def test_a_refused_batch_leaves_the_key_free(
        self, api_client, sn, django_capture_on_commit_callbacks
    ):
        key = {"Idempotency-Key": "fix-and-retry"}
        refused = create(api_client, sn, django_capture_on_commit_callbacks, slotID="9", headers=key)
        assert refused.status_code == 400
        api_client.time_offset = 1

        created = create(api_client, sn, django_capture_on_commit_callbacks, to=TO, headers=key)

        assert created.status_code == 200
        assert Campaign.objects.count() == 1

    def test_a_malformed_key_is_refused(self, api_client, sn, django_capture_on_commit_callbacks):
        bad = {"Idempotency-Key": "two words"}
        response = create(api_client, sn, django_capture_on_commit_callbacks, to=TO, headers=bad)

        assert response.status_code == 400
        assert response.json()["errorCode"] == "INVALID_PARAMETERS"
        assert not Campaign.objects.exists()
