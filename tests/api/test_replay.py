"""Signed writes are not replayable, and POST /jobs honours an Idempotency-Key: a copy of a
request, or a retry of it, never sends or charges twice."""

import json
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from accounts.models import CreditMovement, SmsAccount
from api import services as api_services
from api.models import IdempotentRequest
from messaging import services as sending
from messaging.models import SmsJob

from .conftest import SignedClient

A, B = "+33612345678", "+33612345679"
PAYLOAD = {"message": "Bonjour", "noStopClause": True, "receivers": [A]}


def credits(account) -> Decimal:
    return SmsAccount.objects.get(pk=account.pk).credits


def debits(account):
    return CreditMovement.objects.filter(account=account, kind=CreditMovement.Kind.DEBIT)


def signed_request(api_client, method, path, data=None, extra=None):
    """The exact bytes and headers of one signed request, to send several times."""
    body = "" if data is None else json.dumps(data, separators=(",", ":"))
    headers = api_client.headers(method, api_client.base + path, body)
    headers.update(extra or {})
    return body, headers


def send_copy(client, method, path, body, headers):
    return client.generic(
        method, "/1.0" + path, data=body, content_type="application/json", headers=headers
    )


@pytest.mark.django_db
class TestReplay:
    def test_a_signed_post_replayed_ten_times_sends_and_charges_once(
        self, api_client, client, account, sn
    ):
        body, headers = signed_request(api_client, "POST", f"/sms/{sn}/jobs", PAYLOAD)

        answers = [send_copy(client, "POST", f"/sms/{sn}/jobs", body, headers) for _ in range(10)]

        assert [a.status_code for a in answers] == [200] + [400] * 9
        refused = answers[1].json()
        assert refused["errorCode"] == "QUERY_REPLAYED"
        assert refused["httpCode"] == "400 Bad Request"
        assert "already received" in refused["message"]
        assert SmsJob.objects.count() == 1
        assert debits(account).count() == 1
        assert credits(account) == Decimal("99.00")

    def test_a_replayed_delete_is_refused(self, api_client, client, account, sn):
        ids = api_client.post(f"/sms/{sn}/jobs", {**PAYLOAD, "differedPeriod": 60}).json()["ids"]
        body, headers = signed_request(api_client, "DELETE", f"/sms/{sn}/jobs/{ids[0]}")

        first = send_copy(client, "DELETE", f"/sms/{sn}/jobs/{ids[0]}", body, headers)
        again = send_copy(client, "DELETE", f"/sms/{sn}/jobs/{ids[0]}", body, headers)

        assert first.status_code == 200
        assert again.status_code == 400
        assert again.json()["errorCode"] == "QUERY_REPLAYED"
        assert credits(account) == Decimal("100.00")

    def test_identical_reads_in_the_same_second_both_answer(self, api_client, client, sn):
        # python-ovh signs two identical GETs made within one second identically.
        body, headers = signed_request(api_client, "GET", f"/sms/{sn}")

        answers = [send_copy(client, "GET", f"/sms/{sn}", body, headers) for _ in range(3)]

        assert [a.status_code for a in answers] == [200, 200, 200]
        assert answers[2].json()["name"] == sn

    def test_the_same_write_signed_again_later_is_not_a_replay(self, api_client, account, sn):
        first = api_client.post(f"/sms/{sn}/jobs", PAYLOAD)
        api_client.time_offset = 1  # a new timestamp, so a new signature

        second = api_client.post(f"/sms/{sn}/jobs", PAYLOAD)

        assert (first.status_code, second.status_code) == (200, 200)
        assert SmsJob.objects.count() == 2
        assert credits(account) == Decimal("98.00")

    def test_a_refused_signature_does_not_use_up_the_request(self, api_client, client, sn):
        body, headers = signed_request(api_client, "POST", f"/sms/{sn}/jobs", PAYLOAD)
        forged = {**headers, "X-Ovh-Signature": "$1$" + "0" * 40}

        assert send_copy(client, "POST", f"/sms/{sn}/jobs", body, forged).status_code == 400
        assert send_copy(client, "POST", f"/sms/{sn}/jobs", body, headers).status_code == 200


@pytest.mark.django_db
class TestIdempotencyKey:
    def test_a_retry_with_the_key_gets_the_first_answer_and_charges_nothing(
        self, api_client, account, sn
    ):
        key = {"Idempotency-Key": "3f1c9a6e-5b1d-4a7e-9c1e-2f5b8d7a6c01"}
        first = api_client.post(f"/sms/{sn}/jobs", PAYLOAD, headers=key)
        api_client.time_offset = 1  # the retry is signed anew, as python-ovh would
        second = api_client.post(f"/sms/{sn}/jobs", PAYLOAD, headers=key)

        assert first.status_code == second.status_code == 200
        assert second.json() == first.json()
        assert first.json()["validReceivers"] == [A]
        assert SmsJob.objects.count() == 1
        assert debits(account).count() == 1
        assert credits(account) == Decimal("99.00")

    def test_a_copy_with_its_key_gets_the_stored_answer(self, api_client, client, account, sn):
        # python-ovh retrying within the same second sends the very same signature.
        key = {"Idempotency-Key": "same-second"}
        body, headers = signed_request(api_client, "POST", f"/sms/{sn}/jobs", PAYLOAD, key)

        first = send_copy(client, "POST", f"/sms/{sn}/jobs", body, headers)
        copy = send_copy(client, "POST", f"/sms/{sn}/jobs", body, headers)

        assert first.status_code == copy.status_code == 200
        assert copy.json() == first.json()
        assert SmsJob.objects.count() == 1
        assert credits(account) == Decimal("99.00")

    def test_a_copy_given_another_key_is_still_a_replay(self, api_client, client, account, sn):
        # The header is not signed: an eavesdropper could add or change it.
        path = f"/sms/{sn}/jobs"
        body, headers = signed_request(api_client, "POST", path, PAYLOAD, {"Idempotency-Key": "a"})
        assert send_copy(client, "POST", path, body, headers).status_code == 200

        for other in (
            {**headers, "Idempotency-Key": "b"},
            {k: v for k, v in headers.items() if k != "Idempotency-Key"},
        ):
            replay = send_copy(client, "POST", path, body, other)
            assert replay.status_code == 400
            assert replay.json()["errorCode"] == "QUERY_REPLAYED"
        assert SmsJob.objects.count() == 1
        assert credits(account) == Decimal("99.00")

    def test_keys_are_scoped_to_the_account(self, api_client, account, sn, outsider):
        from .conftest import make_key

        other_account = outsider.memberships.first().account
        SmsAccount.objects.filter(pk=other_account.pk).update(credits=10)
        app, secret, _ck, key = make_key(other_account, outsider)
        other = SignedClient(Client(), app.app_key, secret, key)
        same_key = {"Idempotency-Key": "shared-key"}

        mine = api_client.post(f"/sms/{sn}/jobs", PAYLOAD, headers=same_key)
        theirs = other.post(f"/sms/{other_account.name}/jobs", PAYLOAD, headers=same_key)

        assert mine.status_code == theirs.status_code == 200
        assert mine.json()["ids"] != theirs.json()["ids"]
        assert SmsJob.objects.count() == 2

    def test_the_key_cannot_be_reused_for_another_request(self, api_client, account, sn):
        key = {"Idempotency-Key": "k1"}
        assert api_client.post(f"/sms/{sn}/jobs", PAYLOAD, headers=key).status_code == 200

        other = api_client.post(f"/sms/{sn}/jobs", {**PAYLOAD, "receivers": [B]}, headers=key)

        assert other.status_code == 409
        assert other.json()["errorCode"] == "IDEMPOTENCY_KEY_REUSED"
        assert SmsJob.objects.count() == 1
        assert credits(account) == Decimal("99.00")

    def test_a_refused_send_leaves_the_key_free(self, api_client, account, sn):
        SmsAccount.objects.filter(pk=account.pk).update(credits=0)
        key = {"Idempotency-Key": "retry-after-top-up"}
        refused = api_client.post(f"/sms/{sn}/jobs", PAYLOAD, headers=key)
        assert refused.status_code == 400
        assert not IdempotentRequest.objects.exists()

        SmsAccount.objects.filter(pk=account.pk).update(credits=10)
        api_client.time_offset = 1
        sent = api_client.post(f"/sms/{sn}/jobs", PAYLOAD, headers=key)

        assert sent.status_code == 200
        assert SmsJob.objects.count() == 1
        assert credits(account) == Decimal("9.00")

    @pytest.mark.parametrize("bad", ["", "a" * 256, "clé", "two words"])
    def test_a_malformed_key_is_refused(self, api_client, sn, bad):
        response = api_client.post(f"/sms/{sn}/jobs", PAYLOAD, headers={"Idempotency-Key": bad})

        assert response.status_code == 400
        assert response.json()["errorCode"] == "INVALID_PARAMETERS"
        assert not SmsJob.objects.exists()

    def test_keys_are_forgotten_after_a_day(self, api_client, sn):
        api_client.post(f"/sms/{sn}/jobs", PAYLOAD, headers={"Idempotency-Key": "old"})
        later = IdempotentRequest.objects.get().created_at + api_services.IDEMPOTENCY_LIFETIME

        assert api_services.idempotent_requests_purge(now=later) == 0
        assert api_services.idempotent_requests_purge(now=later + timedelta(seconds=1)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_with_one_key_make_one_job_and_one_charge(
    api_client, account, sn, monkeypatch
):
    """Both requests pass authentication at the same time (each signed with its own
    timestamp); the first holds its transaction open while it sends, the second must wait for
    it on the key's unique constraint and answer with its result."""
    real_submit = sending.job_submit
    inside = threading.Event()

    def slow_submit(**kwargs):
        inside.set()
        time.sleep(0.5)  # the other request arrives meanwhile
        return real_submit(**kwargs)

    monkeypatch.setattr(sending, "job_submit", slow_submit)
    start = threading.Barrier(2)
    answers = {}

    def post(n):
        signed = SignedClient(Client(), api_client.app_key, api_client.secret,
                              api_client.consumer_key)  # fmt: skip
        signed.time_offset = n  # distinct signatures: this is not a replay
        start.wait()
        if n:
            inside.wait(5)
        try:
            answers[n] = signed.post(
                f"/sms/{sn}/jobs", PAYLOAD, headers={"Idempotency-Key": "concurrent"}
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert answers[0].status_code == answers[1].status_code == 200
    assert answers[0].json() == answers[1].json()
    assert SmsJob.objects.count() == 1
    assert debits(account).count() == 1
    assert credits(account) == Decimal("99.00")
