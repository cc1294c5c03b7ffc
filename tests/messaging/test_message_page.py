"""A page per message (its timeline, simulated replies) and the job page's list of messages."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core import recipients
from messaging import dispatch, services
from messaging import reports as received
from messaging.models import IncomingMessage, MessageEvent, OutgoingMessage, StopListEntry
from tests.messaging.test_send_views import text

pytestmark = pytest.mark.django_db
Q = OutgoingMessage.Status
A, B, C = "+33612345671", "+33612345672", "+33612345673"


def message_url(message):
    return reverse("messaging:message", args=[message.account.name, message.pk])


def reply_url(message):
    return reverse("messaging:message_reply", args=[message.account.name, message.pk])


@pytest.fixture
def send(account, owner, scripted_operator, django_capture_on_commit_callbacks):
    def _send(*numbers, message="Bonjour"):
        with django_capture_on_commit_callbacks(execute=True):
            job = services.job_submit(
                account=account,
                user=owner,
                message=message,
                parsed=recipients.parse("\n".join(numbers), "FR"),
                stop_clause=False,
            )
        return job

    return _send


class TestTimeline:
    def test_it_shows_a_retry_each_parts_report_and_replies(
        self, owner_client, send, scripted_operator
    ):
        scripted_operator.SCRIPT[A].append("transient:SMSC_BUSY")
        job = send(A, message="x" * 200)  # two parts
        message = job.messages.get()
        assert message.status == Q.QUEUED  # waiting for its retry
        dispatch.pump(now=timezone.now() + timedelta(minutes=6))
        message.refresh_from_db()
        assert message.status == Q.SUBMITTED
        received.delivery_reports_receive(
            reports=[
                {"operator_id": message.operator_id, "status": "delivered", "part": 1, "parts": 2},
                {"operator_id": message.operator_id, "status": "delivered", "part": 2, "parts": 2},
            ]
        )
        received.incoming_messages_receive(
            replies=[{"operator_id": message.operator_id, "text": "Merci !", "id": "r1"}]
        )

        content = text(owner_client.get(message_url(message)))

        assert "SMSC_BUSY" in content
        assert "Refusé pour l'instant par l'opérateur" in content
        assert f"Identifiant opérateur : {message.operator_id}" in content
        assert "Rapport de la partie 1 sur 2 : Délivré" in content
        assert "Rapport de la partie 2 sur 2 : Délivré" in content
        assert "« Merci ! »" in content
        kinds = list(MessageEvent.objects.filter(message=message).values_list("kind", flat=True))
        assert kinds == ["retry", "report", "report"]

    def test_a_refused_message_shows_its_refund(self, owner_client, send, scripted_operator):
        scripted_operator.SCRIPT[A].append("permanent:BARRED")
        message = send(A).messages.get()

        content = text(owner_client.get(message_url(message)))

        assert message.status == Q.FAILED
        assert "Échec : 1,00 crédit remboursé" in content  # the locale's number, singular
        assert "BARRED" in content

    def test_it_is_linked_from_the_history_and_the_job_page(self, owner_client, send):
        job = send(A, B)
        message = job.messages.get(receiver=A)

        history = text(owner_client.get(reverse("messaging:history", args=[job.account.name])))
        job_page = text(owner_client.get(job.get_absolute_url()))

        assert message_url(message) in history
        assert message_url(message) in job_page

    def test_it_is_404_for_another_accounts_member(self, client, outsider, send):
        message = send(A).messages.get()
        client.force_login(outsider)

        assert client.get(message_url(message)).status_code == 404

    def test_a_message_of_another_account_is_404_under_yours(self, client, outsider, send):
        message = send(A).messages.get()
        client.force_login(outsider)
        own = outsider.memberships.first().account

        url = reverse("messaging:message", args=[own.name, message.pk])

        assert client.get(url).status_code == 404


def simulator(settings):
    """Sent through the scripted operator; the simulator answers from now on."""
    settings.SMS_OPERATOR = {"BACKEND": "simulated", "SIMULATOR": {}}


class TestSimulatedReplies:
    def test_staff_can_make_the_recipient_answer_stop(
        self, client, staff, account, send, settings
    ):
        from tests.accounts.factories import MembershipFactory

        MembershipFactory(user=staff, account=account, role="member")
        client.force_login(staff)
        message = send(A).messages.get()
        simulator(settings)
        assert "Simuler une réponse" in text(client.get(message_url(message)))

        response = client.post(reply_url(message), {"text": "STOP"})

        assert response.status_code == 302
        reply = IncomingMessage.objects.get()
        assert (reply.sender, reply.text, reply.outgoing_id) == (A, "STOP", message.pk)
        assert StopListEntry.objects.filter(account=account, number=A).exists()
        assert "« STOP »" in text(client.get(message_url(message)))

    def test_a_customer_cannot_outside_debug(self, owner_client, send, settings):
        settings.DEBUG = False
        message = send(A).messages.get()
        simulator(settings)

        assert "Simuler une réponse" not in text(owner_client.get(message_url(message)))
        assert owner_client.post(reply_url(message), {"text": "STOP"}).status_code == 404
        assert not IncomingMessage.objects.exists()

    def test_in_debug_a_customer_can(self, owner_client, send, settings):
        settings.DEBUG = True
        message = send(A).messages.get()
        simulator(settings)

        owner_client.post(reply_url(message), {"text": "Oui"})

        assert IncomingMessage.objects.get().text == "Oui"

    def test_not_with_another_operator(self, staff_client, send, settings):
        message = send(A).messages.get()  # the scripted operator of the tests

        assert staff_client.post(reply_url(message), {"text": "STOP"}).status_code == 404


class TestJobMessages:
    def test_it_lists_the_jobs_messages_by_status(
        self, owner_client, send, scripted_operator
    ):
        scripted_operator.SCRIPT[B].append("permanent:BARRED")
        job = send(A, B, C)

        all_rows = owner_client.get(job.get_absolute_url()).context["messages_page"].rows
        failed = owner_client.get(job.get_absolute_url(), {"status": "failed"})

        assert sorted(m.receiver for m in all_rows) == [A, B, C]
        assert [m.receiver for m in failed.context["messages_page"].rows] == [B]
        assert 'data-testid="job-status">Envoyé<' in text(failed)

    def test_it_pages_by_keyset(self, owner_client, send, monkeypatch):
        from messaging import selectors

        numbers = [f"+336123456{i:02d}" for i in range(60)]
        job = send(*numbers)
        monkeypatch.setattr(selectors, "PAGE_SIZE", 50)

        first = owner_client.get(job.get_absolute_url()).context["messages_page"]
        second = owner_client.get(job.get_absolute_url(), {"before": first.next_before})

        rows = first.rows + second.context["messages_page"].rows
        assert len(first.rows) == 50 and len(rows) == 60
        assert len({m.pk for m in rows}) == 60
