"""Signed HTTP callbacks from the operator: delivery reports and incoming SMS."""

import json

import pytest
from django.test import Client

from core import recipients
from messaging import services
from messaging.callbacks import sign
from messaging.models import OutgoingMessage, StopListEntry

REPORTS = "/callbacks/delivery-reports/"
INCOMING = "/callbacks/incoming/"
A = "+33612345671"
Q = OutgoingMessage.Status


@pytest.fixture
def message(account, owner, scripted_operator, django_capture_on_commit_callbacks):
    """One SMS accepted by the operator, waiting for its delivery report."""
    with django_capture_on_commit_callbacks(execute=True):
        job = services.job_submit(
            account=account,
            user=owner,
            message="Bonjour",
            parsed=recipients.parse(A, "FR"),
            stop_clause=False,
        )
    message = job.messages.get()
    assert message.status == Q.SUBMITTED
    return message


def body_of(payload) -> bytes:
    return json.dumps(payload).encode()


def post(client, url, body: bytes, signature=None):
    headers = {} if signature is None else {"HTTP_X_SIGNATURE": signature}
    return client.post(url, data=body, content_type="application/json", **headers)


def post_signed(client, url, payload):
    body = body_of(payload)
    return post(client, url, body, sign(body))


def delivered(message):
    return {
        "reports": [
            {
                "operator_id": message.operator_id,
                "status": "delivered",
                "part": 1,
                "parts": 1,
                "at": "2026-11-25T18:30:00+00:00",
            }
        ]
    }


def status_of(message):
    message.refresh_from_db()
    return message.status


@pytest.mark.django_db
class TestDeliveryReportCallback:
    def test_a_signed_report_is_applied(self, client, message):
        response = post_signed(client, REPORTS, delivered(message))

        assert response.status_code == 200
        assert response.json() == {"received": 1, "unknown": []}
        assert status_of(message) == Q.DELIVERED
        assert message.delivered_at is not None

    def test_unknown_operator_ids_are_listed(self, client, message):
        payload = delivered(message)
        payload["reports"].append({"operator_id": "op-404", "status": "delivered"})

        response = post_signed(client, REPORTS, payload)

        assert response.status_code == 200
        assert response.json() == {"received": 2, "unknown": ["op-404"]}

    def test_a_missing_signature_is_refused(self, client, message):
        response = post(client, REPORTS, body_of(delivered(message)))

        assert response.status_code == 403
        assert status_of(message) == Q.SUBMITTED

    def test_a_wrong_signature_is_refused(self, client, message):
        response = post(client, REPORTS, body_of(delivered(message)), "0" * 64)

        assert response.status_code == 403
        assert status_of(message) == Q.SUBMITTED

    def test_the_signature_of_another_body_is_refused(self, client, message):
        body = body_of(delivered(message))
        other = body_of({"reports": []})

        response = post(client, REPORTS, body, sign(other))

        assert response.status_code == 403
        assert status_of(message) == Q.SUBMITTED

    def test_a_signature_made_with_another_secret_is_refused(self, client, message, settings):
        body = body_of(delivered(message))
        settings.SMS_CALLBACK_SECRET = "not-the-real-secret"
        forged = sign(body)
        settings.SMS_CALLBACK_SECRET = "the-real-secret"

        response = post(client, REPORTS, body, forged)

        assert response.status_code == 403
        assert status_of(message) == Q.SUBMITTED

    def test_an_upper_case_signature_is_refused(self, client, message):
        """hexdigest is lower case; the comparison is exact."""
        body = body_of(delivered(message))

        response = post(client, REPORTS, body, sign(body).upper())

        assert response.status_code == 403

    def test_a_non_ascii_signature_is_refused_not_a_server_error(self, message):
        client = Client(raise_request_exception=False)

        response = post(client, REPORTS, body_of(delivered(message)), "é" * 64)

        assert response.status_code == 403
        assert status_of(message) == Q.SUBMITTED

    @pytest.mark.parametrize(
        "body",
        [
            b"{not json",
            b"",
            b'"reports"',
            b"[]",
            b"{}",
            b'{"reports": {}}',
            b'{"reports": ["op-1"]}',
            b'{"reports": [{"operator_id": "op-1"}]}',
            b"\xff\xfe",
        ],
    )
    def test_a_malformed_signed_body_is_a_400(self, client, message, body):
        response = post(client, REPORTS, body, sign(body))

        assert response.status_code == 400
        assert status_of(message) == Q.SUBMITTED

    def test_a_signed_report_with_a_bad_date_is_a_400(self, message):
        client = Client(raise_request_exception=False)
        payload = delivered(message)
        payload["reports"][0]["at"] = "hier soir"

        response = post_signed(client, REPORTS, payload)

        assert response.status_code == 400
        assert status_of(message) == Q.SUBMITTED

    def test_get_is_not_allowed(self, client):
        assert client.get(REPORTS).status_code == 405

    def test_no_session_or_csrf_token_is_needed(self, message):
        client = Client(enforce_csrf_checks=True)

        response = post_signed(client, REPORTS, delivered(message))

        assert response.status_code == 200
        assert status_of(message) == Q.DELIVERED

    def test_an_expired_report_refunds_once_even_if_posted_twice(self, client, message, account):
        payload = {"reports": [{"operator_id": message.operator_id, "status": "expired"}]}

        assert post_signed(client, REPORTS, payload).status_code == 200
        assert post_signed(client, REPORTS, payload).status_code == 200

        assert status_of(message) == Q.EXPIRED
        account.refresh_from_db()
        assert account.credits == 100


@pytest.mark.django_db
class TestIncomingCallback:
    def stop_reply(self, message, text="STOP"):
        return {"messages": [{"operator_id": message.operator_id, "sender": A, "text": text}]}

    def test_a_signed_stop_reply_adds_the_number_to_the_stop_list(self, client, message, account):
        response = post_signed(client, INCOMING, self.stop_reply(message))

        assert response.status_code == 200
        assert response.json() == {"received": 1, "unknown": []}
        entry = StopListEntry.objects.get(account=account)
        assert entry.number == A
        assert entry.outgoing_id == message.pk

    def test_a_signed_ordinary_reply_adds_nothing(self, client, message):
        response = post_signed(client, INCOMING, self.stop_reply(message, "Merci !"))

        assert response.status_code == 200
        assert not StopListEntry.objects.exists()

    def test_an_unsigned_stop_reply_is_refused(self, client, message):
        response = post(client, INCOMING, body_of(self.stop_reply(message)))

        assert response.status_code == 403
        assert not StopListEntry.objects.exists()

    def test_a_badly_signed_stop_reply_is_refused(self, client, message):
        body = body_of(self.stop_reply(message))
        good = sign(body)
        bad = good[:-1] + ("1" if good[-1] == "0" else "0")

        response = post(client, INCOMING, body, bad)

        assert response.status_code == 403
        assert not StopListEntry.objects.exists()

    def test_a_reply_without_text_is_a_400(self, client, message):
        payload = {"messages": [{"operator_id": message.operator_id}]}

        assert post_signed(client, INCOMING, payload).status_code == 400

    def test_reports_are_not_accepted_as_replies(self, client, message):
        response = post_signed(client, INCOMING, delivered(message))

        assert response.status_code == 400
        assert status_of(message) == Q.SUBMITTED

    def test_an_unknown_message_is_listed(self, client, message):
        payload = {"messages": [{"operator_id": "op-404", "sender": A, "text": "STOP"}]}

        response = post_signed(client, INCOMING, payload)

        assert response.status_code == 200
        assert response.json() == {"received": 1, "unknown": ["op-404"]}
        assert not StopListEntry.objects.exists()
