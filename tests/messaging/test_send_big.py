import json
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from core import recipients
from messaging import dispatch, services
from messaging.models import OutgoingMessage, PendingChunk, SmsJob
from tests.accounts.factories import AccountFactory, MembershipFactory, ledger_sum

pytestmark = pytest.mark.django_db

N = services.INLINE_ROWS + 500


@pytest.fixture
def big_account(owner):
    account = AccountFactory(credits_amount=str(N * 2))
    MembershipFactory(user=owner, account=account)
    return account


def numbers(n):
    return recipients.parse("\n".join(f"+3361{i:07d}" for i in range(n)), "FR")


def test_a_big_job_writes_its_messages_in_the_dispatch_task_once(
    big_account, owner, scripted_operator, settings
):
    settings.DISPATCH = {**settings.DISPATCH, "BATCH": 1000}
    job = services.job_submit(
        account=big_account, user=owner, message="x", parsed=numbers(N), stop_clause=False
    )
    # The request stored the recipients in chunks of a batch and charged the whole job.
    assert not OutgoingMessage.objects.filter(job=job).exists()
    chunks = list(PendingChunk.objects.filter(job=job).order_by("seq"))
    assert [len(c.rows) for c in chunks] == [1000, 1000, 500]
    assert chunks[0].rows[0][0] == "+33610000000"
    big_account.refresh_from_db()
    assert big_account.credits == Decimal(N)

    dispatch.pump()
    assert dispatch.job_start_next() is None  # started once: nothing more is written
    assert OutgoingMessage.objects.filter(job=job).count() == N
    assert not PendingChunk.objects.filter(job=job).exists()
    assert len(scripted_operator.SUBMITTED) == N
    assert SmsJob.objects.get(pk=job.pk).status == "done"


def test_cancelling_a_big_planned_job_refunds_it_whole(big_account, owner):
    job = services.job_submit(
        account=big_account,
        user=owner,
        message="x",
        parsed=numbers(N),
        stop_clause=False,
        scheduled_at=timezone.now() + timezone.timedelta(days=1),
    )
    assert services.job_cancel(job=job)
    assert not PendingChunk.objects.filter(job=job).exists()
    big_account.refresh_from_db()
    assert big_account.credits == Decimal(N * 2)
    assert ledger_sum(big_account) == big_account.credits


def test_a_big_job_is_written_a_batch_at_a_time_and_resumes_after_a_crash(
    big_account, owner, scripted_operator, settings
):
    settings.DISPATCH = {**settings.DISPATCH, "BATCH": 1000}
    job = services.job_submit(
        account=big_account, user=owner, message="x", parsed=numbers(N), stop_clause=False
    )
    assert dispatch.job_start_next() == job.pk
    now = timezone.now()

    claimed = dispatch.job_expand_next(now=now)
    assert len(claimed) == 1000
    # Written already claimed by this dispatcher, committed before the operator is called.
    assert OutgoingMessage.objects.filter(job=job).count() == 1000
    assert OutgoingMessage.objects.filter(job=job, status="submitting", attempts=1).count() == 1000
    assert {row[0] for row in claimed} == set(
        OutgoingMessage.objects.filter(job=job).values_list("id", flat=True)
    )
    assert PendingChunk.objects.filter(job=job).count() == 2  # the chunk written is gone
    # The dispatcher dies here. No row is due (the batch written is leased), yet the beat
    # tick sees the recipients left and wakes a dispatcher, which carries on from what was
    # written and takes over the dead one's batch once its lease has run out.
    assert dispatch.job_finish_if_complete(job.pk) is False
    assert not OutgoingMessage.objects.filter(job=job, next_attempt_at__lte=now).exists()
    assert dispatch.due_work_exists(now=now)
    dispatch.pump(now=now + dispatch.lease())

    assert OutgoingMessage.objects.filter(job=job).count() == N
    assert OutgoingMessage.objects.filter(job=job, status="submitted").count() == N
    assert not PendingChunk.objects.filter(job=job).exists()
    assert sorted(m.message_id for m in scripted_operator.SUBMITTED) == sorted(
        OutgoingMessage.objects.filter(job=job).values_list("id", flat=True)
    )
    assert SmsJob.objects.get(pk=job.pk).status == "done"


@pytest.mark.django_db(transaction=True)
def test_upgrading_keeps_the_recipients_a_job_in_flight_had_not_written(big_account, owner):
    """Migration 0024: a big job's recipients were one row with a count of those written."""
    from django.core.management import call_command
    from django.db import connection

    job = services.job_submit(
        account=big_account, user=owner, message="x", parsed=numbers(10), stop_clause=False
    )
    call_command("migrate", "messaging", "0023", verbosity=0)
    rows = [[f"+3361{i:07d}", "FR", "", 1, "", "1.00", "queued"] for i in range(2500)]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO messaging_pendingrecipients (job_id, rows, written) VALUES (%s, %s, %s)",
            [job.pk, json.dumps(rows), 1200],
        )
    call_command("migrate", "messaging", verbosity=0)

    chunks = list(PendingChunk.objects.filter(job=job).order_by("seq"))
    assert [len(c.rows) for c in chunks] == [1000, 300]
    assert [r[0] for c in chunks for r in c.rows] == [r[0] for r in rows[1200:]]


def test_a_chunk_taken_by_the_other_dispatcher_meanwhile_is_not_written_twice(
    big_account, owner, scripted_operator, settings, monkeypatch
):
    """SQLite reads a chunk before taking the write lock: when the other dispatcher wrote it
    in between, this one writes nothing and asks again."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL locks the chunk it reads (SKIP LOCKED)")
    settings.DISPATCH = {**settings.DISPATCH, "BATCH": 1000}
    job = services.job_submit(
        account=big_account, user=owner, message="x", parsed=numbers(N), stop_clause=False
    )
    dispatch.job_start_next()
    real_atomic = dispatch.transaction.atomic
    first = PendingChunk.objects.get(job=job, seq=0)

    def other_dispatcher_first(*args, **kwargs):
        monkeypatch.setattr(dispatch.transaction, "atomic", real_atomic)
        dispatch.job_expand_next(now=timezone.now())  # writes chunk 0
        return real_atomic(*args, **kwargs)

    monkeypatch.setattr(dispatch.transaction, "atomic", other_dispatcher_first)
    assert dispatch.job_expand_next(now=timezone.now()) == []

    assert not PendingChunk.objects.filter(pk=first.pk).exists()
    assert OutgoingMessage.objects.filter(job=job).count() == 1000
    assert len(dispatch.job_expand_next(now=timezone.now())) == 1000  # chunk 1 next
    assert OutgoingMessage.objects.filter(job=job).count() == 2000
