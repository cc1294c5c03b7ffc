"""Receipts from an SMPP route only decide the submission they belong to: a part's receipt
arriving after its message moved on (a delivery error listed as a route problem) changes
nothing on the route now carrying it."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import SmsAccount
from core import recipients
from messaging import dispatch, services
from messaging.models import OutgoingMessage, Route, RouteFailover, SmppPart
from messaging.operator import smpp_codec, smpp_received

pytestmark = pytest.mark.django_db(transaction=True)
Q = OutgoingMessage.Status


@pytest.fixture
def moved(account, owner, make_route):
    """A two-part message the SMPP route `first` carried, whose part 1 came back with a route
    problem (069): it went through `backup` instead."""
    SmsAccount.objects.filter(pk=account.pk).update(credits=Decimal(100))
    first = Route.objects.create(
        name="first",
        kind=Route.Kind.SMPP,
        enabled=False,  # no connector here: receipts are applied by hand
        failover_errors="069",
        config={"host": "127.0.0.1", "port": 9, "system_id": "x"},
    )
    backup = make_route("backup", {"FR": "0.05"})
    job = services.job_submit(
        account=account,
        user=owner,
        message="a" * 200,
        parsed=recipients.parse("+33612345678", "FR"),
        stop_clause=False,
    )
    message = OutgoingMessage.objects.get(job=job)
    OutgoingMessage.objects.filter(pk=message.pk).update(
        status=Q.SUBMITTED, route=first, operator_id="s1"
    )
    for n in (1, 2):
        SmppPart.objects.create(route=first, smsc_id=f"s{n}", message=message, part=n, parts=2)
    smpp_received.receipt_apply(first, smpp_codec.Receipt("s1", "UNDELIV", "069"))
    dispatch.pump(budget=2)  # (the wake-up may have sent it already)
    message.refresh_from_db()
    assert (message.status, message.route) == (Q.SUBMITTED, backup)
    return first, backup, message


@pytest.mark.parametrize("stat", ["DELIVRD", "UNDELIV"])
def test_a_late_part_receipt_from_the_route_left_behind_changes_nothing(moved, stat):
    first, backup, message = moved
    smpp_received.receipt_apply(first, smpp_codec.Receipt("s2", stat, "000"))
    message.refresh_from_db()
    # Still carried by the backup, waiting for the backup's report; not sent a third time.
    assert (message.status, message.route) == (Q.SUBMITTED, backup)
    assert RouteFailover.objects.filter(message=message).count() == 1
    assert SmppPart.objects.get(smsc_id="s2").stat == stat  # kept for the timeline


def test_a_receipt_for_a_submission_not_recorded_yet_is_kept_until_it_is(
    account, owner, make_route
):
    """The connector's record lost its claim (a dispatcher took the message over): the
    message is still `submitting` when its receipt comes. The receipt waits, and decides
    once the takeover has recorded the submission from the connector's outbox."""
    from datetime import timedelta

    from django.utils import timezone

    from messaging.models import SmppOutbox

    SmsAccount.objects.filter(pk=account.pk).update(credits=Decimal(100))
    route = make_route(
        "first",
        {"FR": "0.01"},
        kind=Route.Kind.SMPP,
        config={"host": "127.0.0.1", "port": 9, "system_id": "x"},
    )
    job = services.job_submit(
        account=account,
        user=owner,
        message="Bonjour",
        parsed=recipients.parse("+33612345678", "FR"),
        stop_clause=False,
    )  # the route is not up: the message waits for a retry
    message = OutgoingMessage.objects.get(job=job)
    OutgoingMessage.objects.filter(pk=message.pk).update(
        status=Q.SUBMITTING, route=route, attempts=2, next_attempt_at=timezone.now()
    )
    SmppOutbox.objects.create(
        message=message, route=route, claim=1, state=SmppOutbox.State.ACCEPTED, smsc_ids=["s1"]
    )
    SmppPart.objects.create(route=route, smsc_id="s1", message=message, part=1, parts=1)
    smpp_received.receipt_apply(route, smpp_codec.Receipt("s1", "DELIVRD", "000"))
    assert OutgoingMessage.objects.get(pk=message.pk).status == Q.SUBMITTING
    OutgoingMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    dispatch.pump(budget=2)  # answered from the outbox: accepted, never sent again
    assert OutgoingMessage.objects.get(pk=message.pk).status == Q.SUBMITTED
    assert smpp_received.kept_receipts_apply(route) == 1  # the connector's heartbeat
    message.refresh_from_db()
    assert (message.status, message.operator_id) == (Q.DELIVERED, "s1")


def test_the_heartbeat_sweep_reads_recent_kept_receipts_only(moved):
    """Receipts for parts never recorded (a submission whose answer was lost) stay listed for
    staff; the connector's heartbeat does not read them again every few seconds forever."""
    from datetime import timedelta

    from django.utils import timezone

    from messaging.models import UnmatchedReport

    first, _backup, _message = moved
    for n in range(3):
        smpp_received.receipt_apply(first, smpp_codec.Receipt(f"lost{n}", "DELIVRD", "000"))
    kept = UnmatchedReport.objects.filter(operator_id__startswith=f"smpp:{first.pk}:")
    assert kept.count() == 3
    kept.update(received_at=timezone.now() - timedelta(hours=2))
    with CaptureQueriesContext(connection) as queries:
        assert smpp_received.kept_receipts_apply(first) == 0
    selects = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
    assert len(selects) == 1, selects  # the old ones are not even looked at
    assert kept.count() == 3


def test_a_failover_records_the_route_that_took_the_message_over(moved):
    """The failover row written when the receipt came back (the next route not chosen yet)
    names the route that carried the message afterwards (the message page shows it)."""
    _first, backup, message = moved
    [failover] = RouteFailover.objects.filter(message=message)
    assert failover.to_route == backup
