"""Receipts from an SMPP route only decide the submission they belong to: a part's receipt
arriving after its message moved on (a delivery error listed as a route problem) changes
nothing on the route now carrying it."""

from decimal import Decimal

import pytest

from accounts.models import SmsAccount
from core import recipients
from messaging import dispatch, services
from messaging.models import OutgoingMessage, Route, RouteCountry, RouteFailover, SmppPart
from messaging.operator import smpp_codec, smpp_received

pytestmark = pytest.mark.django_db(transaction=True)
Q = OutgoingMessage.Status
CLEAN = {
    k: 0.0
    for k in (
        "transient_error_rate",
        "permanent_error_rate",
        "undelivered_rate",
        "expired_rate",
        "duplicate_report_rate",
        "out_of_order_rate",
    )
}


@pytest.fixture
def moved(account, owner):
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
    backup = Route.objects.create(name="backup", kind=Route.Kind.SIMULATED, config=CLEAN)
    RouteCountry.objects.create(route=backup, country="FR", cost=Decimal("0.05"))
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
