"""Replies from handsets: STOP keywords and the account's STOP list."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core import recipients
from messaging import reports as received
from messaging import services
from messaging.models import OutgoingMessage, StopListEntry
from messaging.operator.simulated import deliver_due_events
from tests.accounts.factories import AccountFactory

A, B = "+33612345671", "+33612345672"
Q = OutgoingMessage.Status


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        "Stop.",
        "STOP SMS",
        "stop sms",
        "STOPSMS",
        "arret",
        "ARRÊT",
        "Arrêt",
        "Arrêter",
        " stop ",
        "stop!",
        "Stop, merci",
        "STOP 36111",
        "désabonner",
        "unsubscribe",
    ],
)
def test_stop_keywords(text):
    assert received.is_stop_keyword(text) is True


@pytest.mark.parametrize(
    "text",
    [
        # Decision: "stopper" is not a keyword. Only the first word counts, and only when it
        # is a keyword itself (or the first two words glued, "STOP SMS"): a longer word that
        # merely starts with "stop" is a conversation, not an opt-out, and a false positive
        # would silently stop all SMS to a customer. The customer can still answer "STOP".
        "stopper la pub?",
        "Bonjour",
        "non stop",
        "Merci !",
        "Je ne veux plus, stop",  # the keyword must come first
        "",
        "   ",
        "!!!",
        None,
    ],
)
def test_not_stop_keywords(text):
    assert received.is_stop_keyword(text) is False


@pytest.fixture
def sent(account, owner, scripted_operator, django_capture_on_commit_callbacks):
    def _sent(*numbers):
        with django_capture_on_commit_callbacks(execute=True):
            job = services.job_submit(
                account=account,
                user=owner,
                message="Bonjour",
                parsed=recipients.parse("\n".join(numbers), "FR"),
                stop_clause=False,
            )
        return list(job.messages.order_by("id"))

    return _sent


def reply(message, text):
    return {"operator_id": message.operator_id, "sender": message.receiver, "text": text}


@pytest.mark.django_db
class TestIncoming:
    def test_a_stop_reply_adds_the_number_to_the_stop_list(self, sent, account):
        [message] = sent(A)

        unmatched = received.incoming_messages_receive(replies=[reply(message, "Stop.")])

        assert unmatched == set()
        entry = StopListEntry.objects.get(account=account)
        assert entry.number == A
        assert entry.outgoing == message

    def test_another_reply_changes_nothing(self, sent):
        [message] = sent(A)

        received.incoming_messages_receive(replies=[reply(message, "Merci, bien reçu")])

        assert not StopListEntry.objects.exists()

    def test_a_second_stop_keeps_one_entry(self, sent, account):
        [message] = sent(A)

        received.incoming_messages_receive(replies=[reply(message, "STOP")])
        received.incoming_messages_receive(replies=[reply(message, "STOP")])

        assert StopListEntry.objects.filter(account=account, number=A).count() == 1

    def test_an_unknown_message_is_returned(self, sent):
        sent(A)

        unmatched = received.incoming_messages_receive(
            replies=[{"operator_id": "op-unknown", "sender": A, "text": "STOP"}]
        )

        assert unmatched == {"op-unknown"}
        assert not StopListEntry.objects.exists()

    def test_the_stop_list_is_per_account(self, sent, account):
        [message] = sent(A)
        received.incoming_messages_receive(replies=[reply(message, "STOP")])

        assert not StopListEntry.objects.exclude(account=account).exists()
        other = AccountFactory(credits_amount="10")
        job = services.job_submit(
            account=other,
            user=None,
            message="Bonjour",
            parsed=recipients.parse(A, "FR"),
            stop_clause=False,
        )
        assert job.stoplisted_count == 0

    def test_a_later_send_to_that_number_skips_it(self, sent, account, owner, scripted_operator):
        [message] = sent(A)
        received.incoming_messages_receive(replies=[reply(message, "ARRÊT")])
        account.refresh_from_db()
        before = account.credits
        scripted_operator.SUBMITTED.clear()

        messages = {m.receiver: m for m in sent(A, B)}

        stopped, other = messages[A], messages[B]
        assert stopped.status == Q.STOPLISTED
        assert stopped.credits == Decimal("0.00")
        assert other.status == Q.SUBMITTED
        assert [m.receiver for m in scripted_operator.SUBMITTED] == [B]
        job = stopped.job
        assert job.stoplisted_count == 1
        assert job.credits == Decimal("1.00")
        account.refresh_from_db()
        assert account.credits == before - Decimal("1.00")


@pytest.mark.django_db
def test_a_simulated_stop_reply_reaches_the_stop_list(
    settings, account, owner, django_capture_on_commit_callbacks
):
    settings.SMS_OPERATOR = {
        "BACKEND": "simulated",
        "SIMULATOR": {
            "seed": 11,
            "transient_error_rate": 0.0,
            "permanent_error_rate": 0.0,
            "undelivered_rate": 0.0,
            "expired_rate": 0.0,
            "duplicate_report_rate": 0.0,
            "out_of_order_rate": 0.0,
            "stop_reply_rate": 1.0,
        },
    }
    with django_capture_on_commit_callbacks(execute=True):
        job = services.job_submit(
            account=account,
            user=owner,
            message="Bonjour",
            parsed=recipients.parse(A, "FR"),
            stop_clause=False,
        )

    deliver_due_events(now=timezone.now() + timedelta(days=1))

    message = job.messages.get()
    assert message.status == Q.DELIVERED
    entry = StopListEntry.objects.get(account=account)
    assert entry.number == A and entry.outgoing == message
