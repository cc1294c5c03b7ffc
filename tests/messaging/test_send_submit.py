"""job_submit: what a send costs, what it stores, when it is refused and when it goes out."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import CreditMovement, DestinationRate, SmsAccount
from core import recipients
from messaging.models import OutgoingMessage, SmsJob, StopListEntry
from messaging.services import SendError, job_submit
from senders.models import Sender
from tests.accounts.factories import AccountFactory, ledger_sum

PARIS = ZoneInfo("Europe/Paris")
FR1, FR2, FR3 = "+33612345678", "+33612345679", "+33612345670"
BE1 = "+32470123456"
# Wednesday 25 November 2026, 10:00 in Paris: inside the commercial window.
WEDNESDAY_10H = datetime(2026, 11, 25, 10, 0, tzinfo=PARIS)
# Sunday 29 November 2026, 16:00 in Paris: commercial SMS must wait for Monday 08:00.
SUNDAY_16H = datetime(2026, 11, 29, 16, 0, tzinfo=PARIS)
MONDAY_8H = datetime(2026, 11, 30, 8, 0, tzinfo=PARIS)

TWO_SEGMENTS = "a" * 200  # GSM-7, no STOP mention: 2 parts


def parse(*entries, region="FR"):
    return recipients.parse("\n".join(entries), region)


def submit(account, user, *entries, message="Bonjour", stop_clause=False, **kwargs):
    """Non-commercial by default, so the commercial window (real clock) plays no part."""
    return job_submit(
        account=account,
        user=user,
        message=message,
        parsed=parse(*entries),
        stop_clause=stop_clause,
        **kwargs,
    )


def balance(account):
    account.refresh_from_db()
    return account.credits


@pytest.mark.django_db
class TestCharging:
    def test_it_charges_segments_times_the_destination_rate(self, account, owner):
        job = submit(account, owner, FR1, BE1, message=TWO_SEGMENTS)

        # 2 segments × (1.00 FR + 1.65 BE) = 5.30
        assert job.segments == 2
        assert job.credits == Decimal("5.30")
        assert job.recipients_count == 2
        assert balance(account) == Decimal("94.70")
        assert ledger_sum(account) == account.credits

    def test_it_writes_one_debit_ledger_row_keyed_by_the_job(self, account, owner):
        job = submit(account, owner, FR1, BE1, message=TWO_SEGMENTS)

        debits = CreditMovement.objects.filter(account=account, kind=CreditMovement.Kind.DEBIT)
        assert debits.count() == 1
        debit = debits.get()
        assert debit.key == f"job:{job.pk}:debit"
        assert debit.amount == Decimal("-5.30")
        assert debit.balance_after == Decimal("94.70")
        assert debit.created_by == owner

    def test_each_message_is_queued_with_its_own_credits(self, account, owner):
        job = submit(account, owner, FR1, BE1, message=TWO_SEGMENTS)

        rows = {m.receiver: m for m in OutgoingMessage.objects.filter(job=job)}
        assert set(rows) == {FR1, BE1}
        assert rows[FR1].credits == Decimal("2.00") and rows[FR1].country == "FR"
        assert rows[BE1].credits == Decimal("3.30") and rows[BE1].country == "BE"
        for message in rows.values():
            assert message.status == OutgoingMessage.Status.QUEUED
            assert message.parts == 2
            assert message.attempts == 0
            assert message.account_id == account.pk
        assert sum(m.credits for m in rows.values()) == job.credits

    def test_the_stop_mention_counts_in_the_segments(self, account, owner):
        # 150 characters + "\nSTOP:36111" (11) = 161 septets: 2 parts.
        job = submit(account, owner, FR1, message="a" * 150, stop_clause=True, now=WEDNESDAY_10H)

        assert job.segments == 2
        assert job.credits == Decimal("2.00")
        assert balance(account) == Decimal("98.00")

    def test_a_job_may_use_the_whole_balance(self, account, owner):
        numbers = [f"+336123456{i:02d}" for i in range(100)]

        job = submit(account, owner, *numbers)

        assert job.credits == Decimal("100.00")
        assert balance(account) == Decimal("0.00")
        assert OutgoingMessage.objects.filter(job=job).count() == 100

    def test_a_job_is_queued_when_sent_now(self, account, owner):
        job = submit(account, owner, FR1)

        job.refresh_from_db()
        assert job.status == SmsJob.Status.QUEUED
        assert job.scheduled_at is None
        assert job.encoding == "GSM-7"
        assert job.sender_id is None and job.sender_label == ""
        assert job.created_by == owner


@pytest.mark.django_db
class TestRecipients:
    def test_duplicates_are_counted_and_sent_once(self, account, owner):
        job = submit(account, owner, FR1, "06 12 34 56 78", "0033612345678", FR2)

        assert job.duplicates_count == 2
        assert job.recipients_count == 2
        assert OutgoingMessage.objects.filter(job=job).count() == 2
        assert job.credits == Decimal("2.00")

    def test_invalid_receivers_are_stored_with_their_reason_codes(self, account, owner):
        DestinationRate.objects.filter(country="US").delete()

        job = submit(account, owner, FR1, "hello", "+33140000000", "+336123", "+12015550123")

        job.refresh_from_db()
        assert job.invalid_receivers == [
            ["hello", "not_a_number"],
            ["+33140000000", "not_mobile"],
            ["+336123", "invalid"],
            ["+12015550123", "no_rate"],
        ]
        assert job.recipients_count == 1
        assert list(OutgoingMessage.objects.filter(job=job).values_list("receiver", flat=True)) == [
            FR1
        ]
        assert job.credits == Decimal("1.00")

    def test_only_invalid_receivers_is_refused(self, account, owner):
        with pytest.raises(SendError):
            submit(account, owner, "hello", "+33140000000")

        assert not SmsJob.objects.exists()
        assert balance(account) == Decimal("100.00")


@pytest.mark.django_db
class TestInsufficientCredits:
    def test_it_is_refused_and_changes_nothing(self, account, owner):
        numbers = [f"+336123456{i:02d}" for i in range(60)]  # 60 × 2 segments = 120 > 100
        movements_before = CreditMovement.objects.filter(account=account).count()

        with pytest.raises(SendError) as error:
            submit(account, owner, *numbers, message=TWO_SEGMENTS)

        assert "120" in str(error.value)
        assert not SmsJob.objects.exists()
        assert not OutgoingMessage.objects.exists()
        assert balance(account) == Decimal("100.00")
        assert CreditMovement.objects.filter(account=account).count() == movements_before
        assert not CreditMovement.objects.filter(kind=CreditMovement.Kind.DEBIT).exists()
        assert ledger_sum(account) == account.credits

    def test_one_credit_short_is_refused(self, account, owner):
        numbers = [f"+336123456{i:02d}" for i in range(100)]
        submit(account, owner, FR1[:-2] + "99")  # 1 credit: 99 left
        assert balance(account) == Decimal("99.00")

        with pytest.raises(SendError):
            submit(account, owner, *numbers)

        assert SmsJob.objects.count() == 1
        assert balance(account) == Decimal("99.00")

    def test_it_registers_no_dispatch(self, account, owner, django_capture_on_commit_callbacks):
        numbers = [f"+336123456{i:02d}" for i in range(60)]
        with django_capture_on_commit_callbacks() as callbacks, pytest.raises(SendError):
            submit(account, owner, *numbers, message=TWO_SEGMENTS)
        assert callbacks == []


@pytest.mark.django_db
class TestStopList:
    def test_stoplisted_numbers_are_stored_but_never_charged(self, account, owner):
        StopListEntry.objects.create(account=account, number=FR1)

        job = submit(account, owner, FR1, FR2, BE1)

        job.refresh_from_db()
        assert job.stoplisted_count == 1
        assert job.recipients_count == 2
        assert job.credits == Decimal("2.65")  # FR2 1.00 + BE1 1.65
        stopped = OutgoingMessage.objects.get(job=job, receiver=FR1)
        assert stopped.status == OutgoingMessage.Status.STOPLISTED
        assert stopped.credits == Decimal("0.00")
        assert balance(account) == Decimal("97.35")
        assert ledger_sum(account) == account.credits

    def test_a_stoplisted_number_is_never_dispatched(
        self, account, owner, scripted_operator, django_capture_on_commit_callbacks
    ):
        StopListEntry.objects.create(account=account, number=FR1)

        with django_capture_on_commit_callbacks(execute=True):
            job = submit(account, owner, FR1, FR2)

        assert [m.receiver for m in scripted_operator.SUBMITTED] == [FR2]
        assert (
            OutgoingMessage.objects.get(job=job, receiver=FR1).status
            == OutgoingMessage.Status.STOPLISTED
        )
        job.refresh_from_db()
        assert job.status == SmsJob.Status.DONE

    def test_only_stoplisted_numbers_is_refused(self, account, owner):
        StopListEntry.objects.create(account=account, number=FR1)

        with pytest.raises(SendError):
            submit(account, owner, FR1, "06 12 34 56 78")

        assert not SmsJob.objects.exists()
        assert balance(account) == Decimal("100.00")

    def test_another_accounts_stop_list_does_not_apply(self, account, owner):
        StopListEntry.objects.create(account=AccountFactory(), number=FR1)

        job = submit(account, owner, FR1)

        assert job.stoplisted_count == 0
        assert OutgoingMessage.objects.get(job=job).status == OutgoingMessage.Status.QUEUED


@pytest.mark.django_db
class TestRefusals:
    def test_a_disabled_account_cannot_send(self, account, owner):
        account.status = SmsAccount.Status.DISABLE
        account.save()

        with pytest.raises(SendError):
            submit(account, owner, FR1)

        assert not SmsJob.objects.exists()
        assert balance(account) == Decimal("100.00")

    def test_a_sender_of_another_account_is_refused(self, account, owner):
        foreign = Sender.objects.create(
            account=AccountFactory(), sender="AUTRE", status=Sender.Status.ENABLE
        )

        with pytest.raises(SendError):
            submit(account, owner, FR1, sender=foreign)

        assert not SmsJob.objects.exists()
        assert balance(account) == Decimal("100.00")

    @pytest.mark.parametrize(
        "status", [Sender.Status.WAITING, Sender.Status.DISABLE, Sender.Status.REFUSED]
    )
    def test_a_sender_not_enabled_is_refused(self, account, owner, status):
        sender = Sender.objects.create(account=account, sender="BOUTIQUE", status=status)

        with pytest.raises(SendError):
            submit(account, owner, FR1, sender=sender)

        assert not SmsJob.objects.exists()

    def test_an_enabled_sender_of_the_account_is_used(self, account, owner):
        sender = Sender.objects.create(
            account=account, sender="BOUTIQUE", status=Sender.Status.ENABLE
        )

        job = submit(account, owner, FR1, sender=sender)

        assert job.sender == sender
        assert job.sender_label == "BOUTIQUE"

    def test_a_text_longer_than_255_sms_is_refused(self, account, owner):
        with pytest.raises(SendError) as error:
            submit(account, owner, FR1, message="a" * (153 * 255 + 1))

        assert "255" in str(error.value)
        assert not SmsJob.objects.exists()
        assert balance(account) == Decimal("100.00")

    def test_an_empty_message_is_refused(self, account, owner):
        with pytest.raises(SendError):
            submit(account, owner, FR1, message="")
        assert not SmsJob.objects.exists()


@pytest.mark.django_db
class TestWhen:
    def test_a_commercial_sms_on_sunday_waits_for_monday_8am(
        self, account, owner, scripted_operator, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            job = submit(account, owner, FR1, stop_clause=True, now=SUNDAY_16H)

        job.refresh_from_db()
        assert job.status == SmsJob.Status.SCHEDULED
        assert job.scheduled_at == MONDAY_8H
        assert job.scheduled_at.astimezone(PARIS).hour == 8
        assert callbacks == []
        assert scripted_operator.SUBMITTED == []
        assert OutgoingMessage.objects.get(job=job).status == OutgoingMessage.Status.QUEUED
        # Charged when planned, like an immediate send.
        assert balance(account) == Decimal("99.00")

    def test_a_commercial_sms_inside_the_window_is_queued(
        self, account, owner, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks() as callbacks:
            job = submit(account, owner, FR1, stop_clause=True, now=WEDNESDAY_10H)

        assert job.status == SmsJob.Status.QUEUED
        assert job.scheduled_at is None
        assert len(callbacks) == 1

    def test_a_non_commercial_sms_on_sunday_goes_out_at_once(
        self, account, owner, scripted_operator, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            job = submit(account, owner, FR1, stop_clause=False, now=SUNDAY_16H)

        job.refresh_from_db()
        assert job.scheduled_at is None
        assert job.status == SmsJob.Status.DONE
        assert [m.receiver for m in scripted_operator.SUBMITTED] == [FR1]
        assert OutgoingMessage.objects.get(job=job).status == OutgoingMessage.Status.SUBMITTED

    def test_a_deferred_send_is_scheduled(
        self, account, owner, scripted_operator, django_capture_on_commit_callbacks
    ):
        now = timezone.now()
        later = now + timedelta(days=2)

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            job = submit(account, owner, FR1, scheduled_at=later, now=now)

        job.refresh_from_db()
        assert job.status == SmsJob.Status.SCHEDULED
        assert job.scheduled_at == later
        assert callbacks == []
        assert scripted_operator.SUBMITTED == []

    def test_a_deferred_commercial_send_on_sunday_moves_to_monday(self, account, owner):
        job = submit(
            account, owner, FR1, stop_clause=True, scheduled_at=SUNDAY_16H, now=WEDNESDAY_10H
        )

        assert job.status == SmsJob.Status.SCHEDULED
        assert job.scheduled_at == MONDAY_8H

    def test_a_deferred_time_in_the_past_means_now(self, account, owner):
        job = submit(
            account, owner, FR1, scheduled_at=WEDNESDAY_10H - timedelta(days=1), now=WEDNESDAY_10H
        )

        assert job.status == SmsJob.Status.QUEUED
        assert job.scheduled_at is None

    def test_dispatch_is_queued_only_after_commit(
        self, account, owner, scripted_operator, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks() as callbacks:
            job = submit(account, owner, FR1, FR2)
            # Inside the transaction: nothing handed to the workers yet.
            assert scripted_operator.SUBMITTED == []

        assert len(callbacks) == 1
        assert scripted_operator.SUBMITTED == []
        job.refresh_from_db()
        assert job.status == SmsJob.Status.QUEUED

        callbacks[0]()  # the commit happens: the (eager) dispatch task runs

        job.refresh_from_db()
        assert job.status == SmsJob.Status.DONE
        assert sorted(m.receiver for m in scripted_operator.SUBMITTED) == sorted([FR1, FR2])
