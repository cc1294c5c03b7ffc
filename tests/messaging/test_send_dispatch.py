"""Dispatch: operator answers, retries, refunds, release of planned jobs, cancellation.

The scripted operator answers what each test tells it (tests/messaging/fakes.py); Celery
runs eagerly, so a dispatch queued on commit runs inside the test.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import CreditMovement
from core import recipients
from messaging import dispatch, services
from messaging import reports as received
from messaging.encoding import STOP_CLAUSE
from messaging.models import OutgoingMessage, SmsJob
from tests.accounts.factories import ledger_sum

A, B, C, D = "+33612345671", "+33612345672", "+33612345673", "+33612345674"
Q = OutgoingMessage.Status


@pytest.fixture
def send(account, owner, scripted_operator, django_capture_on_commit_callbacks):
    """Submit a non-commercial job now and run its dispatch as the commit would."""

    def _send(*numbers, message="Bonjour", **kwargs):
        kwargs.setdefault("stop_clause", False)
        with django_capture_on_commit_callbacks(execute=True):
            job = services.job_submit(
                account=account,
                user=owner,
                message=message,
                parsed=recipients.parse("\n".join(numbers), "FR"),
                **kwargs,
            )
        job.refresh_from_db()
        return job

    return _send


@pytest.fixture
def plan(account, owner):
    """Submit a deferred job (dispatch not run: it is planned)."""

    def _plan(*numbers, at, now=None):
        return services.job_submit(
            account=account,
            user=owner,
            message="Plus tard",
            parsed=recipients.parse("\n".join(numbers), "FR"),
            stop_clause=False,
            scheduled_at=at,
            now=now,
        )

    return _plan


def message_to(job, receiver):
    return OutgoingMessage.objects.get(job=job, receiver=receiver)


def balance(account):
    account.refresh_from_db()
    return account.credits


def refunds(account):
    return CreditMovement.objects.filter(account=account, kind=CreditMovement.Kind.REFUND)


def retry_until_done(fakes, now_after):
    """Run the retry beat at `now_after` (a time past the message's next attempt)."""
    return dispatch.pump(now=now_after)


@pytest.mark.django_db
class TestOperatorAnswers:
    def test_accepted_message_is_submitted_and_the_job_done(self, send, scripted_operator):
        job = send(A)

        message = message_to(job, A)
        assert message.status == Q.SUBMITTED
        assert message.operator_id == f"op-{message.pk}"
        assert message.submitted_at is not None
        assert message.attempts == 1
        assert message.error_code == ""
        assert job.status == SmsJob.Status.DONE
        assert job.started_at is not None and job.finished_at is not None

    def test_what_the_operator_receives(self, send, scripted_operator, account):
        from datetime import datetime
        from zoneinfo import ZoneInfo

        wednesday_10h = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
        job = send(A, message="Soldes", stop_clause=True, now=wednesday_10h)

        [sms] = scripted_operator.SUBMITTED
        assert sms.message_id == message_to(job, A).pk
        assert sms.receiver == A
        assert sms.text == "Soldes" + STOP_CLAUSE
        assert sms.sender == ""
        assert sms.reply_allowed is True
        assert sms.parts == 1
        assert sms.attempt == 1

    def test_an_alphanumeric_sender_is_shown_and_allows_no_reply(
        self, send, scripted_operator, account
    ):
        from senders.models import Sender

        sender = Sender.objects.create(
            account=account, sender="BOUTIQUE", type=Sender.Type.ALPHA, status=Sender.Status.ENABLE
        )

        send(A, sender=sender)

        [sms] = scripted_operator.SUBMITTED
        assert sms.sender == "BOUTIQUE"
        assert sms.reply_allowed is False

    def test_a_failed_multi_part_foreign_message_refunds_its_own_credits(
        self, send, scripted_operator, account
    ):
        belgian = "+32470123456"
        scripted_operator.SCRIPT[belgian] = ["permanent:INVALID_DESTINATION"]

        job = send(A, belgian, message="a" * 200)  # 2 parts: FR 2.00, BE 3.30

        assert job.credits == Decimal("5.30")
        [refund] = refunds(account)
        assert refund.amount == Decimal("3.30")
        assert balance(account) == Decimal("98.00")

    def test_permanent_rejection_fails_and_refunds(self, send, scripted_operator, account):
        scripted_operator.SCRIPT[A] = ["permanent:BARRED"]

        job = send(A, B)

        message = message_to(job, A)
        assert message.status == Q.FAILED
        assert message.error_code == "BARRED"
        assert message_to(job, B).status == Q.SUBMITTED
        assert job.status == SmsJob.Status.DONE
        [refund] = refunds(account)
        assert refund.amount == Decimal("1.00")
        assert refund.key == f"message:{message.pk}:refund"
        assert balance(account) == Decimal("99.00")
        assert ledger_sum(account) == account.credits

    def test_transient_rejection_stays_queued_for_five_minutes(
        self, send, scripted_operator, account
    ):
        scripted_operator.SCRIPT[A] = ["transient:SMSC_BUSY"]

        before = timezone.now()
        job = send(A)
        after = timezone.now()

        message = message_to(job, A)
        assert message.status == Q.QUEUED
        assert message.attempts == 1
        assert message.error_code == "SMSC_BUSY"
        assert message.operator_id == ""
        assert before + timedelta(minutes=5) <= message.next_attempt_at
        assert message.next_attempt_at <= after + timedelta(minutes=5)
        assert job.status == SmsJob.Status.SENDING
        assert not refunds(account).exists()
        assert balance(account) == Decimal("99.00")

    def test_retry_before_its_time_does_nothing(self, send, scripted_operator):
        scripted_operator.SCRIPT[A] = ["transient:SMSC_BUSY"]
        job = send(A)
        due = message_to(job, A).next_attempt_at

        assert dispatch.pump(now=due - timedelta(seconds=1)) == 0
        assert dispatch.pump() == 0

        assert len(scripted_operator.SUBMITTED) == 1
        message = message_to(job, A)
        assert message.status == Q.QUEUED and message.attempts == 1
        assert message.next_attempt_at == due

    def test_retry_after_its_time_resubmits(self, send, scripted_operator):
        scripted_operator.SCRIPT[A] = ["transient:SMSC_BUSY", "ok"]
        job = send(A)
        due = message_to(job, A).next_attempt_at

        assert dispatch.pump(now=due + timedelta(seconds=1)) == 1

        assert [m.receiver for m in scripted_operator.SUBMITTED] == [A, A]
        assert scripted_operator.SUBMITTED[1].attempt == 2
        message = message_to(job, A)
        assert message.status == Q.SUBMITTED
        assert message.attempts == 2
        assert message.error_code == ""
        job.refresh_from_db()
        assert job.status == SmsJob.Status.DONE

    def test_second_transient_waits_ten_minutes(self, send, scripted_operator):
        scripted_operator.SCRIPT[A] = ["transient:SMSC_BUSY", "transient:THROTTLED"]
        job = send(A)
        due = message_to(job, A).next_attempt_at

        before = timezone.now()
        dispatch.pump(now=due + timedelta(seconds=1))
        after = timezone.now()

        message = message_to(job, A)
        assert message.status == Q.QUEUED
        assert message.attempts == 2
        assert message.error_code == "THROTTLED"
        assert before + timedelta(minutes=10) <= message.next_attempt_at
        assert message.next_attempt_at <= after + timedelta(minutes=10)

    def test_third_transient_fails_and_refunds(self, send, scripted_operator, account):
        scripted_operator.SCRIPT[A] = ["transient:SMSC_BUSY"] * 3
        job = send(A)
        dispatch.pump(now=timezone.now() + timedelta(minutes=6))
        dispatch.pump(now=timezone.now() + timedelta(minutes=11))

        assert len(scripted_operator.SUBMITTED) == 3
        message = message_to(job, A)
        assert message.status == Q.FAILED
        assert message.error_code == "SMSC_BUSY"
        [refund] = refunds(account)
        assert refund.amount == Decimal("1.00")
        assert balance(account) == Decimal("100.00")
        job.refresh_from_db()
        assert job.status == SmsJob.Status.DONE
        # Nothing left to retry.
        assert dispatch.pump(now=timezone.now() + timedelta(days=1)) == 0

    def test_a_claim_hides_the_message_until_its_lease_runs_out(self, send, scripted_operator):
        """A pump that died after claiming: nobody else takes the message before the lease
        ends; then it is submitted again with the same message id (the idempotency key)."""
        scripted_operator.SCRIPT[A] = ["transient:SMSC_BUSY"]
        job = send(A)
        message = message_to(job, A)
        later = message.next_attempt_at + timedelta(seconds=1)
        [claimed] = dispatch.messages_claim(now=later)  # ... and the pump dies here
        assert claimed[0] == message.pk
        message.refresh_from_db()
        assert message.status == Q.SUBMITTING and message.attempts == 2

        assert dispatch.pump(now=later) == 0
        assert dispatch.pump(now=later + dispatch.lease()) == 1

        assert [m.message_id for m in scripted_operator.SUBMITTED] == [message.pk] * 2
        message.refresh_from_db()
        assert message.status == Q.SUBMITTED and message.attempts == 3

    def test_a_stale_pump_cannot_record_over_a_newer_claim(self, send, scripted_operator):
        """A pump whose lease ran out answers late: its answer is ignored, the new claim's
        answer counts."""
        scripted_operator.SCRIPT[A] = ["transient:SMSC_BUSY"]
        job = send(A)
        message = message_to(job, A)
        later = message.next_attempt_at + timedelta(seconds=1)
        stale = dispatch.messages_claim(now=later)
        fresh = dispatch.messages_claim(now=later + dispatch.lease())
        assert fresh[0][4] == stale[0][4] + 1

        scripted_operator.SCRIPT[A] = ["permanent:BARRED"]
        dispatch.batch_submit(rows=stale)  # rejected for good, but too late to count
        message.refresh_from_db()
        assert message.status == Q.SUBMITTING
        dispatch.batch_submit(rows=fresh)
        message.refresh_from_db()
        assert message.status == Q.SUBMITTED


@pytest.mark.django_db
class TestIdempotence:
    def _started_job(self, account, owner, *numbers):
        """A job started by a pump whose batches have not been claimed yet."""
        job = services.job_submit(
            account=account,
            user=owner,
            message="Bonjour",
            parsed=recipients.parse("\n".join(numbers), "FR"),
            stop_clause=False,
        )  # the on-commit wake-up never runs in a `db` test
        assert dispatch.job_start_next() == job.pk
        return job

    def test_a_message_submitted_is_never_claimed_again(self, account, owner, scripted_operator):
        job = self._started_job(account, owner, A, B)

        assert dispatch.pump() == 2
        assert dispatch.pump(now=timezone.now() + timedelta(days=1)) == 0

        assert sorted(m.receiver for m in scripted_operator.SUBMITTED) == [A, B]
        assert set(job.messages.values_list("status", flat=True)) == {Q.SUBMITTED}
        assert balance(account) == Decimal("98.00")

    def test_a_claimed_batch_is_not_claimed_by_a_second_pump(
        self, account, owner, scripted_operator
    ):
        job = self._started_job(account, owner, A, B, C)
        first = dispatch.messages_claim(now=timezone.now(), limit=2)

        second = dispatch.messages_claim(now=timezone.now())

        assert [r[2] for r in second] == [C]
        assert {r[2] for r in first} == {A, B}
        dispatch.batch_submit(rows=second)
        job.refresh_from_db()
        assert job.status == SmsJob.Status.SENDING  # A and B are still being submitted
        dispatch.batch_submit(rows=first)
        job.refresh_from_db()
        assert job.status == SmsJob.Status.DONE

    def test_a_message_waiting_for_its_retry_is_not_claimed(
        self, account, owner, scripted_operator
    ):
        scripted_operator.SCRIPT[A] = ["transient:SMSC_BUSY", "transient:SMSC_BUSY"]
        job = self._started_job(account, owner, A, B)

        dispatch.pump()
        dispatch.pump()

        assert [m.receiver for m in scripted_operator.SUBMITTED].count(A) == 1
        assert message_to(job, A).attempts == 1

    def test_a_job_is_started_once(self, send, scripted_operator):
        send(A, B)

        assert dispatch.job_start_next() is None
        assert dispatch.pump() == 0

        assert len(scripted_operator.SUBMITTED) == 2

    def test_a_cancelled_job_submits_nothing(self, plan, scripted_operator):
        job = plan(A, B, at=timezone.now() + timedelta(hours=1))
        assert services.job_cancel(job=job)

        assert dispatch.tick(now=timezone.now() + timedelta(hours=2)) == 0
        assert dispatch.pump(now=timezone.now() + timedelta(hours=2)) == 0

        assert scripted_operator.SUBMITTED == []
        assert set(job.messages.values_list("status", "error_code")) == {(Q.CANCELLED, "")}


@pytest.mark.django_db
class TestRelease:
    def test_only_due_jobs_are_released(self, plan, scripted_operator):
        now = timezone.now()
        soon = plan(A, at=now + timedelta(hours=1), now=now)
        later = plan(B, at=now + timedelta(hours=3), now=now)

        assert dispatch.jobs_release_due(now=now + timedelta(hours=2)) == 1
        dispatch.pump(now=now + timedelta(hours=2))

        soon.refresh_from_db()
        later.refresh_from_db()
        assert soon.status == SmsJob.Status.DONE
        assert later.status == SmsJob.Status.SCHEDULED
        assert [m.receiver for m in scripted_operator.SUBMITTED] == [A]

    def test_nothing_is_released_before_its_time(self, plan, scripted_operator):
        now = timezone.now()
        job = plan(A, at=now + timedelta(hours=1), now=now)

        assert dispatch.tick(now=now) == 0

        job.refresh_from_db()
        assert job.status == SmsJob.Status.SCHEDULED
        assert scripted_operator.SUBMITTED == []

    def test_the_tick_releases_and_wakes_a_pump(self, plan, scripted_operator, settings):
        settings.DISPATCH = {**settings.DISPATCH, "PUMPS": 1}
        now = timezone.now()
        job = plan(A, at=now - timedelta(seconds=1), now=now - timedelta(hours=1))

        assert dispatch.tick() == 1  # Celery is eager here: the pump ran

        job.refresh_from_db()
        assert job.status == SmsJob.Status.DONE
        assert dispatch.tick() == 0
        assert len(scripted_operator.SUBMITTED) == 1

    def test_a_busy_slot_is_not_woken_twice(self, plan, scripted_operator, settings):
        from django.core.cache import cache

        settings.DISPATCH = {**settings.DISPATCH, "PUMPS": 1}
        cache.set("dispatch:pump:0", 1, 60)  # a pump is running somewhere
        now = timezone.now()
        job = plan(A, at=now - timedelta(seconds=1), now=now - timedelta(hours=1))

        assert dispatch.tick() == 0
        job.refresh_from_db()
        assert job.status == SmsJob.Status.QUEUED
        cache.delete("dispatch:pump:0")  # its slot expired: the worker died
        assert dispatch.tick() == 1
        job.refresh_from_db()
        assert job.status == SmsJob.Status.DONE


@pytest.mark.django_db
class TestCancel:
    def test_cancelling_a_planned_job_refunds_it_whole(self, plan, account):
        job = plan(A, B, at=timezone.now() + timedelta(hours=1))
        assert balance(account) == Decimal("98.00")

        assert services.job_cancel(job=job) is True

        job.refresh_from_db()
        assert job.status == SmsJob.Status.CANCELLED
        assert job.finished_at is not None
        [refund] = refunds(account)
        assert refund.key == f"job:{job.pk}:cancel"
        assert refund.amount == Decimal("2.00")
        assert balance(account) == Decimal("100.00")
        assert ledger_sum(account) == account.credits
        assert set(job.messages.values_list("status", flat=True)) == {Q.CANCELLED}

    def test_a_second_cancel_refunds_nothing_more(self, plan, account):
        job = plan(A, at=timezone.now() + timedelta(hours=1))
        assert services.job_cancel(job=job) is True

        assert services.job_cancel(job=job) is False

        assert refunds(account).count() == 1
        assert balance(account) == Decimal("100.00")

    def test_a_cancelled_job_is_never_released(self, plan, scripted_operator):
        now = timezone.now()
        job = plan(A, at=now + timedelta(hours=1), now=now)
        services.job_cancel(job=job)

        assert dispatch.jobs_release_due(now=now + timedelta(hours=2)) == 0

        assert scripted_operator.SUBMITTED == []

    def test_cancel_after_release_is_refused(self, plan, account):
        now = timezone.now()
        job = plan(A, at=now + timedelta(hours=1), now=now)
        dispatch.jobs_release_due(now=now + timedelta(hours=2))  # no pump has run yet

        assert services.job_cancel(job=job) is False

        job.refresh_from_db()
        assert job.status == SmsJob.Status.QUEUED
        assert not refunds(account).exists()
        assert balance(account) == Decimal("99.00")

    def test_an_immediate_job_cannot_be_cancelled(self, send, account):
        job = send(A)

        assert services.job_cancel(job=job) is False

        assert not refunds(account).exists()
        assert balance(account) == Decimal("99.00")


@pytest.mark.django_db
def test_after_a_mixed_run_the_ledger_matches_the_balance(send, scripted_operator, account):
    """A accepted, B refused for good, C transient three times, D accepted then expired."""
    start = balance(account)
    scripted_operator.SCRIPT[B] = ["permanent:UNKNOWN_SUBSCRIBER"]
    scripted_operator.SCRIPT[C] = ["transient:SMSC_BUSY"] * 3

    job = send(A, B, C, D)
    dispatch.pump(now=timezone.now() + timedelta(minutes=6))
    dispatch.pump(now=timezone.now() + timedelta(minutes=11))
    d = message_to(job, D)
    received.delivery_reports_receive(
        reports=[{"operator_id": d.operator_id, "status": "expired", "part": 1, "parts": 1}]
    )

    statuses = dict(job.messages.values_list("receiver", "status"))
    assert statuses == {A: Q.SUBMITTED, B: Q.FAILED, C: Q.FAILED, D: Q.EXPIRED}
    account.refresh_from_db()
    assert ledger_sum(account) == account.credits
    kept = sum(
        m.credits for m in job.messages.all() if m.status not in (Q.FAILED, Q.EXPIRED, Q.STOPLISTED)
    )
    assert kept == Decimal("1.00")
    assert account.credits == start - kept
    assert refunds(account).count() == 3
    job.refresh_from_db()
    assert job.status == SmsJob.Status.DONE
