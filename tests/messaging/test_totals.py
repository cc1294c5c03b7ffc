"""The dashboard's totals are kept by the steps that move messages: after a send with
acceptances, retries, refusals, reports (duplicates included), expiries and cancellations,
they are what counting the messages again gives."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core import recipients
from messaging import dispatch, services, stats, totals
from messaging import reports as received
from messaging.models import MessageTotal, OutgoingMessage

pytestmark = pytest.mark.django_db
Q = OutgoingMessage.Status
NUMBERS = [f"+3361234{i:04d}" for i in range(12)]


def snapshot():
    return {
        (t.account_id, t.hour, t.status): (t.count, t.credits)
        for t in MessageTotal.objects.exclude(count=0)
    }


def test_the_kept_totals_are_the_counted_ones(
    account, owner, scripted_operator, django_capture_on_commit_callbacks
):
    scripted_operator.SCRIPT[NUMBERS[0]] += ["permanent:BARRED"]
    scripted_operator.SCRIPT[NUMBERS[1]] += ["transient:SMSC_BUSY"]
    from messaging.models import StopListEntry

    StopListEntry.objects.create(account=account, number=NUMBERS[2])
    with django_capture_on_commit_callbacks(execute=True):
        job = services.job_submit(
            account=account, user=owner, message="Bonjour",
            parsed=recipients.parse("\n".join(NUMBERS[:8]), "FR"), stop_clause=False,
        )  # fmt: skip
    dispatch.pump(now=timezone.now() + timedelta(minutes=6))  # the retry
    sent = list(job.messages.filter(status=Q.SUBMITTED).order_by("id"))
    report = [
        {"operator_id": sent[0].operator_id, "status": "delivered"},
        {"operator_id": sent[0].operator_id, "status": "delivered"},  # a duplicate
        {"operator_id": sent[1].operator_id, "status": "undelivered", "error_code": "ABSENT"},
        {"operator_id": sent[1].operator_id, "status": "delivered"},  # same batch: it wins
        {"operator_id": sent[2].operator_id, "status": "expired"},
    ]
    received.delivery_reports_receive(reports=report)
    received.delivery_reports_receive(reports=report[:1])  # again, another call
    planned = services.job_submit(
        account=account, user=owner, message="Plus tard",
        parsed=recipients.parse("\n".join(NUMBERS[8:]), "FR"), stop_clause=False,
        scheduled_at=timezone.now() + timedelta(days=1),
    )  # fmt: skip
    services.message_cancel(message=planned.messages.first())
    services.job_cancel(job=planned)

    kept = snapshot()
    totals.rebuild()

    assert kept == snapshot()
    figures = stats.account_stats(account, "all")
    assert figures["sent"] == 6  # 8 minus the refused and the STOP-listed
    assert figures["delivered"] == 2
    assert figures["failed"] == 2  # refused, expired
    assert figures["stoplisted"] == 1 and figures["cancelled"] == 4
    assert figures["credits"] == Decimal("5.00")  # 7 charged, refused and expired refunded


def test_a_record_whose_claim_was_taken_over_adds_nothing_to_the_totals(account, owner):
    from messaging.operator import SubmitResult

    job = services.job_submit(
        account=account, user=owner, message="Bonjour",
        parsed=recipients.parse(NUMBERS[0], "FR"), stop_clause=False,
    )  # fmt: skip
    dispatch.job_start_next()
    now = timezone.now()
    [first] = dispatch.messages_claim(now=now)  # a dispatcher that then stalls
    [second] = dispatch.messages_claim(now=now + dispatch.lease())  # takes over
    pk = first[0]
    answer = [SubmitResult(pk, True, f"op-{pk}")]

    dispatch.results_record(answer, attempts={pk: second[4]})
    dispatch.results_record(answer, attempts={pk: first[4]})  # the stale one, late

    assert job.messages.get().status == Q.SUBMITTED
    kept = snapshot()
    totals.rebuild()
    assert kept == snapshot()
    assert sum(n for (_a, _h, s), (n, _c) in kept.items() if s == Q.SUBMITTED) == 1
