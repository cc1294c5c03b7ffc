"""The database as the queue of record: what survives a lost wake-up, early reports kept until
their message is known, and the validity period."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core import recipients
from messaging import dispatch, services
from messaging import reports as received
from messaging.models import IncomingMessage, OutgoingMessage, SmsJob, UnmatchedReport
from tests.accounts.factories import ledger_sum

A, B = "+33612345671", "+33612345672"
Q = OutgoingMessage.Status


def submit(account, owner, *numbers, **kwargs):
    return services.job_submit(
        account=account,
        user=owner,
        message="Bonjour",
        parsed=recipients.parse("\n".join(numbers), "FR"),
        stop_clause=False,
        **kwargs,
    )


@pytest.mark.django_db
class TestLostWakeUp:
    def test_a_send_while_the_broker_is_down_is_charged_kept_and_sent_later(
        self, account, owner, scripted_operator, monkeypatch, django_capture_on_commit_callbacks
    ):
        from messaging import tasks

        def broker_down(*args, **kwargs):
            raise ConnectionRefusedError("broker down")

        monkeypatch.setattr(tasks.dispatch_pump, "delay", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            job = submit(account, owner, A, B)  # no exception reaches the person sending

        job.refresh_from_db()
        assert job.status == SmsJob.Status.QUEUED
        account.refresh_from_db()
        assert account.credits == Decimal("98.00")
        monkeypatch.undo()

        assert dispatch.tick() > 0  # the broker is back: the next tick finds the job

        job.refresh_from_db()
        assert job.status == SmsJob.Status.DONE
        assert set(job.messages.values_list("status", flat=True)) == {Q.SUBMITTED}

    def test_the_tick_finds_nothing_when_nothing_is_due(self, account, owner, scripted_operator):
        submit(account, owner, A, scheduled_at=timezone.now() + timedelta(hours=1))

        assert not dispatch.due_work_exists()
        assert dispatch.tick() == 0


@pytest.mark.django_db
class TestEarlyReports:
    def _claimed(self, account, owner):
        job = submit(account, owner, A)
        dispatch.job_start_next()
        [row] = dispatch.messages_claim(now=timezone.now())
        return job, row

    def test_a_report_before_the_submission_is_recorded_is_kept_then_applied(
        self, account, owner, scripted_operator
    ):
        job, row = self._claimed(account, owner)
        operator_id = f"op-{row[0]}"  # what the scripted operator will answer

        # The operator delivers before our record of its answer has committed.
        unknown = received.delivery_reports_receive(
            reports=[{"operator_id": operator_id, "status": "delivered", "part": 1, "parts": 1}]
        )
        assert unknown == {operator_id}
        assert UnmatchedReport.objects.filter(operator_id=operator_id).count() == 1

        dispatch.batch_submit(rows=[row])  # recording the submission applies it

        message = OutgoingMessage.objects.get(pk=row[0])
        assert message.status == Q.DELIVERED
        assert not UnmatchedReport.objects.exists()

    def test_an_early_reply_is_kept_then_stored(self, account, owner, scripted_operator):
        job, row = self._claimed(account, owner)
        operator_id = f"op-{row[0]}"
        reply = {"operator_id": operator_id, "text": "STOP", "at": timezone.now().isoformat()}

        assert received.incoming_messages_receive(replies=[reply]) == {operator_id}
        assert not IncomingMessage.objects.exists()

        dispatch.batch_submit(rows=[row])

        [incoming] = IncomingMessage.objects.all()
        assert incoming.text == "STOP" and incoming.outgoing_id == row[0]
        assert account.stop_list.filter(number=A).exists()

    def test_the_sweep_applies_what_the_record_could_not_see(
        self, account, owner, scripted_operator
    ):
        """A report stored while the record was committing (both transactions open at once):
        the periodic sweep applies it."""
        job, row = self._claimed(account, owner)
        dispatch.batch_submit(rows=[row])
        message = OutgoingMessage.objects.get(pk=row[0])
        UnmatchedReport.objects.create(
            kind="report",
            operator_id=message.operator_id,
            payload={"operator_id": message.operator_id, "status": "delivered"},
            received_at=timezone.now(),
        )

        assert received.unmatched_reports_apply() == 1

        message.refresh_from_db()
        assert message.status == Q.DELIVERED

    def test_a_report_for_no_message_stays_for_staff(self, account, owner):
        received.delivery_reports_receive(
            reports=[{"operator_id": "nobody", "status": "delivered", "part": 1, "parts": 1}]
        )

        assert received.unmatched_reports_apply() == 0
        assert UnmatchedReport.objects.filter(operator_id="nobody").count() == 1
        # After a day the sweep stops trying; the row stays for the dispatch health page.
        UnmatchedReport.objects.update(received_at=timezone.now() - timedelta(days=2))
        assert received.unmatched_reports_apply() == 0
        assert UnmatchedReport.objects.count() == 1


@pytest.mark.django_db
class TestValidityPeriod:
    def test_a_message_without_a_report_expires_after_the_validity_period_and_is_refunded(
        self, account, owner, scripted_operator
    ):
        job = submit(account, owner, A, B, validity_period=60)
        dispatch.pump()
        job.refresh_from_db()
        assert job.status == SmsJob.Status.DONE
        a = job.messages.get(receiver=A)
        received.delivery_reports_receive(
            reports=[{"operator_id": a.operator_id, "status": "delivered", "part": 1, "parts": 1}]
        )

        assert received.messages_expire_overdue(now=timezone.now() + timedelta(minutes=59)) == 0
        assert received.messages_expire_overdue(now=timezone.now() + timedelta(minutes=61)) == 1

        statuses = dict(job.messages.values_list("receiver", "status"))
        assert statuses == {A: Q.DELIVERED, B: Q.EXPIRED}
        assert job.messages.get(receiver=B).error_code == "VALIDITY_EXPIRED"
        account.refresh_from_db()
        assert account.credits == Decimal("99.00")
        assert ledger_sum(account) == account.credits
        job.refresh_from_db()
        assert job.settled_at is not None
        # Settled: a later sweep neither looks at it nor refunds again.
        assert received.messages_expire_overdue(now=timezone.now() + timedelta(days=3)) == 0
        account.refresh_from_db()
        assert account.credits == Decimal("99.00")

    def test_a_job_whose_messages_all_reported_is_settled_early(
        self, account, owner, scripted_operator
    ):
        job = submit(account, owner, A)
        dispatch.pump()
        a = job.messages.get()
        received.delivery_reports_receive(
            reports=[{"operator_id": a.operator_id, "status": "delivered", "part": 1, "parts": 1}]
        )

        assert received.messages_expire_overdue() == 0

        job.refresh_from_db()
        assert job.settled_at is not None
        assert job.messages.get().status == Q.DELIVERED

    def test_the_default_validity_is_48_hours(self, account, owner, scripted_operator):
        job = submit(account, owner, A)
        dispatch.pump()

        assert received.messages_expire_overdue(now=timezone.now() + timedelta(hours=47)) == 0
        assert received.messages_expire_overdue(now=timezone.now() + timedelta(hours=49)) == 1
        assert job.messages.get().status == Q.EXPIRED
