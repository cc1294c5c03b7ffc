"""Delivery reports: what moves a message, what never does, and refunds of expired SMS."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import CreditMovement
from core import recipients
from messaging import ledger, services
from messaging import reports as received
from messaging.models import OutgoingMessage, SimulatorBatch, SimulatorEvent, SmsJob
from messaging.operator import OutboundSms, get_operator
from messaging.operator.simulated import deliver_due_events
from tests.accounts.factories import ledger_sum

A, B, C = "+33612345671", "+33612345672", "+33612345673"
Q = OutgoingMessage.Status
ON_SQLITE = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
T1 = "2026-11-25T18:30:00+00:00"
T2 = "2026-11-25T18:31:00+00:00"


@pytest.fixture
def submitted(account, owner, scripted_operator, django_capture_on_commit_callbacks):
    """Send a non-commercial job through the scripted operator; returns its messages."""

    def _submitted(*numbers, message="Bonjour"):
        with django_capture_on_commit_callbacks(execute=True):
            job = services.job_submit(
                account=account,
                user=owner,
                message=message,
                parsed=recipients.parse("\n".join(numbers), "FR"),
                stop_clause=False,
            )
        messages = list(job.messages.order_by("id"))
        assert all(m.status == Q.SUBMITTED for m in messages)
        return messages

    return _submitted


def report(message, status, at=None, **extra):
    return {
        "operator_id": message.operator_id,
        "status": status,
        **({"at": at} if at else {}),
        **extra,
    }


def fresh(message):
    message.refresh_from_db()
    return message


def refunds(account):
    return CreditMovement.objects.filter(account=account, kind=CreditMovement.Kind.REFUND)


def balance(account):
    account.refresh_from_db()
    return account.credits


@pytest.mark.django_db
class TestDeliveryReports:
    def test_delivered_sets_the_status_and_time(self, submitted):
        [message] = submitted(A)

        unmatched = received.delivery_reports_receive(reports=[report(message, "delivered", T1)])

        assert unmatched == set()
        message = fresh(message)
        assert message.status == Q.DELIVERED
        assert message.delivered_at == datetime.fromisoformat(T1)

    def test_a_report_time_with_an_offset_is_the_same_instant(self, submitted):
        [message] = submitted(A)

        received.delivery_reports_receive(
            reports=[report(message, "delivered", "2026-11-25T19:30:00+01:00")]
        )

        assert fresh(message).delivered_at == datetime.fromisoformat(T1)

    def test_a_report_time_with_an_offset_is_filtered_as_the_same_instant(self, submitted):
        [message] = submitted(A)
        received.delivery_reports_receive(
            reports=[report(message, "delivered", "2026-11-25T19:30:00+01:00")]  # 18:30 UTC
        )

        quarter_to_seven_utc = datetime.fromisoformat("2026-11-25T18:45:00+00:00")
        assert OutgoingMessage.objects.filter(delivered_at__lt=quarter_to_seven_utc).count() == 1

    def test_delivered_without_a_time_uses_now(self, submitted):
        [message] = submitted(A)
        before = timezone.now()

        received.delivery_reports_receive(reports=[report(message, "delivered")])

        assert before <= fresh(message).delivered_at <= timezone.now()

    def test_a_duplicate_report_changes_nothing(self, submitted, account):
        [message] = submitted(A)
        received.delivery_reports_receive(reports=[report(message, "delivered", T1)])

        unmatched = received.delivery_reports_receive(reports=[report(message, "delivered", T2)])

        assert unmatched == set()
        message = fresh(message)
        assert message.status == Q.DELIVERED
        assert message.delivered_at == datetime.fromisoformat(T1)

    def test_undelivered_after_delivered_does_not_move_it_back(self, submitted):
        [message] = submitted(A)
        received.delivery_reports_receive(reports=[report(message, "delivered", T1)])

        received.delivery_reports_receive(
            reports=[report(message, "undelivered", T2, error_code="ABSENT_SUBSCRIBER")]
        )

        message = fresh(message)
        assert message.status == Q.DELIVERED
        assert message.error_code == ""
        assert message.delivered_at == datetime.fromisoformat(T1)

    def test_undelivered_is_final_and_not_refunded(self, submitted, account):
        [message] = submitted(A)

        received.delivery_reports_receive(
            reports=[report(message, "undelivered", T1, error_code="HANDSET_FULL")]
        )
        received.delivery_reports_receive(reports=[report(message, "delivered", T2)])

        message = fresh(message)
        assert message.status == Q.UNDELIVERED
        assert message.error_code == "HANDSET_FULL"
        assert not refunds(account).exists()
        assert balance(account) == Decimal("99.00")

    def test_buffered_changes_nothing(self, submitted):
        [message] = submitted(A)

        unmatched = received.delivery_reports_receive(reports=[report(message, "buffered", T1)])

        assert unmatched == set()
        message = fresh(message)
        assert message.status == Q.SUBMITTED
        assert message.delivered_at is None

    def test_a_late_buffered_report_does_not_undo_delivery(self, submitted):
        [message] = submitted(A)
        received.delivery_reports_receive(
            reports=[report(message, "delivered", T1), report(message, "buffered", T2)]
        )

        assert fresh(message).status == Q.DELIVERED

    def test_for_a_two_part_message_only_the_last_part_decides(self, submitted):
        [message] = submitted(A, message="a" * 200)
        assert message.parts == 2

        received.delivery_reports_receive(
            reports=[report(message, "delivered", T1, part=1, parts=2)]
        )
        assert fresh(message).status == Q.SUBMITTED

        received.delivery_reports_receive(
            reports=[report(message, "delivered", T2, part=2, parts=2)]
        )
        message = fresh(message)
        assert message.status == Q.DELIVERED
        assert message.delivered_at == datetime.fromisoformat(T2)

    def test_an_early_part_failing_does_not_decide_either(self, submitted):
        [message] = submitted(A, message="a" * 200)

        received.delivery_reports_receive(reports=[report(message, "expired", T1, part=1, parts=2)])

        assert fresh(message).status == Q.SUBMITTED

    def test_expired_is_refunded(self, submitted, account):
        [message, other] = submitted(A, B)
        assert balance(account) == Decimal("98.00")

        received.delivery_reports_receive(
            reports=[report(message, "expired", T1, error_code="VALIDITY_EXPIRED")]
        )

        message = fresh(message)
        assert message.status == Q.EXPIRED
        assert message.error_code == "VALIDITY_EXPIRED"
        [refund] = refunds(account)
        assert refund.amount == Decimal("1.00")
        assert refund.key == f"message:{message.pk}:refund"
        assert balance(account) == Decimal("99.00")
        assert fresh(other).status == Q.SUBMITTED

    def test_expired_twice_in_one_call_is_refunded_once(self, submitted, account):
        [message] = submitted(A)

        received.delivery_reports_receive(
            reports=[report(message, "expired", T1), report(message, "expired", T2)]
        )

        assert fresh(message).status == Q.EXPIRED
        assert refunds(account).count() == 1
        assert balance(account) == Decimal("100.00")

    def test_expired_twice_in_two_calls_is_refunded_once(self, submitted, account):
        [message] = submitted(A)

        received.delivery_reports_receive(reports=[report(message, "expired", T1)])
        received.delivery_reports_receive(reports=[report(message, "expired", T2)])

        assert refunds(account).count() == 1
        assert balance(account) == Decimal("100.00")
        assert ledger_sum(account) == account.credits

    def test_a_second_refund_of_the_same_message_is_refused_by_the_ledger_key(
        self, submitted, account
    ):
        [message, other] = submitted(A, B)
        received.delivery_reports_receive(reports=[report(message, "expired", T1)])
        assert balance(account) == Decimal("99.00")
        # A path that bypassed the status guard (a bug, a hand-edited row) puts the message
        # back in flight: the refund key alone must stop a second refund.
        OutgoingMessage.objects.filter(pk=message.pk).update(status=Q.SUBMITTED)

        moved = ledger.messages_fail(
            failures=[(message.pk, "UNDELIVERED"), (other.pk, "UNDELIVERED")],
            status=Q.UNDELIVERED,
            from_statuses=[Q.SUBMITTED],
        )

        assert moved == 2
        assert sorted(refunds(account).values_list("key", flat=True)) == sorted(
            [f"message:{message.pk}:refund", f"message:{other.pk}:refund"]
        )
        assert balance(account) == Decimal("100.00")  # the other message only: +1.00
        assert ledger_sum(account) == account.credits

    def test_the_ledger_refuses_two_movements_with_one_refund_key(self, submitted, account):
        [message] = submitted(A)
        received.delivery_reports_receive(reports=[report(message, "expired", T1)])

        with pytest.raises(IntegrityError), transaction.atomic():
            CreditMovement.objects.create(
                account=account,
                kind=CreditMovement.Kind.REFUND,
                amount=Decimal("1.00"),
                balance_after=Decimal("101.00"),
                key=f"message:{message.pk}:refund",
            )
        assert refunds(account).count() == 1

    def test_expired_after_delivered_is_not_refunded(self, submitted, account):
        [message] = submitted(A)
        received.delivery_reports_receive(reports=[report(message, "delivered", T1)])

        received.delivery_reports_receive(reports=[report(message, "expired", T2)])

        assert fresh(message).status == Q.DELIVERED
        assert not refunds(account).exists()

    def test_unknown_operator_ids_are_returned(self, submitted):
        [message] = submitted(A)

        unmatched = received.delivery_reports_receive(
            reports=[
                report(message, "delivered", T1),
                {"operator_id": "nope-1", "status": "delivered"},
                {"operator_id": "nope-2", "status": "buffered"},
            ]
        )

        assert unmatched == {"nope-1", "nope-2"}
        assert fresh(message).status == Q.DELIVERED

    def test_a_report_for_a_message_not_yet_recorded_is_returned_unmatched(
        self, account, owner, scripted_operator
    ):
        """The operator may report before our batch commits: the report must come back."""
        job = services.job_submit(
            account=account,
            user=owner,
            message="Bonjour",
            parsed=recipients.parse(A, "FR"),
            stop_clause=False,
        )
        message = job.messages.get()

        unmatched = received.delivery_reports_receive(
            reports=[{"operator_id": f"op-{message.pk}", "status": "delivered"}]
        )

        assert unmatched == {f"op-{message.pk}"}
        assert fresh(message).status == Q.QUEUED


ERRORS_OFF = {
    "seed": 7,
    "transient_error_rate": 0.0,
    "permanent_error_rate": 0.0,
    "undelivered_rate": 0.0,
    "expired_rate": 0.0,
    "duplicate_report_rate": 0.0,
    "out_of_order_rate": 0.0,
}


@pytest.fixture
def simulated(settings):
    settings.SMS_OPERATOR = {"BACKEND": "simulated", "SIMULATOR": dict(ERRORS_OFF)}


def pending_events() -> int:
    """Reports and replies the simulator holds (several share a row when due close together)."""
    return sum(len(p) for p in SimulatorEvent.objects.values_list("payload", flat=True))


def outbound(message_id: int, attempt: int = 1) -> OutboundSms:
    return OutboundSms(
        message_id=message_id,
        receiver=A,
        sender="",
        text="Bonjour",
        parts=1,
        sms_class="phoneDisplay",
        reply_allowed=True,
        attempt=attempt,
    )


def accepted_ids() -> set[int]:
    """Message ids the simulator remembers accepting."""
    return {
        pk
        for ranges in SimulatorBatch.objects.values_list("ranges", flat=True)
        for first, last in ranges
        for pk in range(first, last + 1)
    }


@pytest.mark.django_db
class TestSimulatedOperator:
    def test_every_message_is_delivered_once_its_reports_are_due(
        self, simulated, account, owner, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            job = services.job_submit(
                account=account,
                user=owner,
                message="Bonjour",
                parsed=recipients.parse(f"{A}\n{B}\n{C}", "FR"),
                stop_clause=False,
            )
        messages = list(job.messages.all())
        assert {m.status for m in messages} == {Q.SUBMITTED}
        assert {m.operator_id for m in messages} == {f"sim-{m.pk}" for m in messages}
        assert accepted_ids() == {m.pk for m in messages}
        assert pending_events() == 3  # one report each, one part each

        # Nothing is due yet in the past.
        assert deliver_due_events(now=timezone.now() - timedelta(days=1)) == 0
        assert deliver_due_events(now=timezone.now() + timedelta(days=1)) == 3

        assert set(job.messages.values_list("status", flat=True)) == {Q.DELIVERED}
        assert not job.messages.filter(delivered_at=None).exists()
        assert not SimulatorEvent.objects.exists()
        job.refresh_from_db()
        assert job.status == SmsJob.Status.DONE
        assert balance(account) == Decimal("97.00")

    def test_a_multi_part_message_is_delivered_after_its_last_part(
        self, simulated, account, owner, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            job = services.job_submit(
                account=account,
                user=owner,
                message="a" * 400,  # 3 parts
                parsed=recipients.parse(A, "FR"),
                stop_clause=False,
            )
        assert pending_events() == 3  # one report per part

        assert deliver_due_events(now=timezone.now() + timedelta(days=1)) == 3

        assert job.messages.get().status == Q.DELIVERED

    def test_submitting_the_same_message_twice_is_accepted_once(self, simulated):
        sms = outbound(987654)

        [first] = get_operator().submit([sms])
        events = pending_events()
        [second] = get_operator().submit([sms])

        assert first.accepted and second.accepted
        assert first.operator_id == second.operator_id == "sim-987654"
        assert accepted_ids() == {987654}
        assert SimulatorBatch.objects.count() == 1
        assert pending_events() == events == 1

    def test_a_retried_submission_with_a_new_attempt_is_still_the_same_message(self, simulated):
        [first] = get_operator().submit([outbound(987655, attempt=1)])
        [second] = get_operator().submit([outbound(987655, attempt=2)])

        assert first.operator_id == second.operator_id
        assert accepted_ids() == {987655}
        assert SimulatorBatch.objects.count() == 1


@pytest.mark.django_db
def test_the_simulator_remembers_batches_with_gaps_and_answers_a_mixed_resubmission(simulated):
    sms = outbound
    first = get_operator().submit([sms(pk) for pk in (10, 11, 12, 20)])
    assert SimulatorBatch.objects.get().ranges == [[10, 12], [20, 20]]
    assert pending_events() == 4

    # A batch mixing messages accepted before (a lease taken over) and new ones.
    again = get_operator().submit([sms(pk) for pk in (11, 12, 13, 20, 21)])

    assert all(r.accepted for r in first + again)
    assert {r.message_id: r.operator_id for r in again} == {
        pk: f"sim-{pk}" for pk in (11, 12, 13, 20, 21)
    }
    assert accepted_ids() == {10, 11, 12, 13, 20, 21}
    assert pending_events() == 6  # one report for each new message only
