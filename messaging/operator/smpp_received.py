"""What an SMSC sends over a bind: delivery receipts (one per part) and MO messages.

Called by the connector's thread for each deliver_sm, before it is acknowledged: a receipt or
an MO that cannot be stored is answered ESME_RX_T_APPNACK and the SMSC delivers it again.

Rule for a message of several parts: it is *delivered* when every part's receipt says
DELIVRD; it *failed* (undelivered, or expired) as soon as one part's receipt says so, with
that part's error; other states (ENROUTE, ACCEPTD, UNKNOWN) change nothing. A failing error the
route lists as a route problem (Route.failover_errors) sends the message again through the
next route instead.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .. import dispatch, reports, totals
from ..models import (
    MessageEvent,
    OutgoingMessage,
    Route,
    RouteFailover,
    SmppOutbox,
    SmppPart,
    UnmatchedReport,
)
from . import smpp_codec

_Q = OutgoingMessage.Status
KEPT_SWEEP = timedelta(hours=1)
KEPT_SWEEP_BATCH = 1000


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value or ""


def deliver_sm_receive(route: Route, pdu) -> int:
    """Store one deliver_sm; returns the command_status of its deliver_sm_resp."""
    esm_class = pdu.esm_class or 0
    short_message = pdu.short_message or b""
    if isinstance(short_message, str):
        short_message = short_message.encode("latin-1")
    receipted = _text(getattr(pdu, "receipted_message_id", None)).strip("\x00")
    if esm_class & smpp_codec.ESM_RECEIPT or receipted:
        receipt = smpp_codec.parse_receipt(short_message.decode("latin-1"), receipted)
        if receipt is not None:
            receipt_apply(route, receipt)
        return 0
    text, _concat = smpp_codec.decode(short_message, pdu.data_coding or 0, esm_class)
    mo_receive(route, number=_text(pdu.source_addr), text=text)
    return 0


def receipt_apply(route: Route, receipt: smpp_codec.Receipt, *, kept: bool = False) -> bool:
    """Apply one part's receipt; False when it has to wait (kept, if it is not already)."""
    now = timezone.now()
    part = SmppPart.objects.filter(route=route, smsc_id=receipt.smsc_id).first()
    message = (
        None
        if part is None
        else OutgoingMessage.objects.only("id", "operator_id", "status", "route_id").get(
            pk=part.message_id
        )
    )
    if part is None or (
        message.route_id == route.pk and message.status in OutgoingMessage.IN_FLIGHT
    ):
        # The SMSC can report a part before its submission is recorded (the connector has not
        # written the batch yet, or its record lost the claim to a dispatcher that records it
        # from the outbox): kept (durably, before the deliver_sm is acknowledged) under a key
        # no message has, and applied by kept_receipts_apply once it is recorded.
        if not kept:
            key = _kept_key(route, receipt.smsc_id)
            payload = {"operator_id": key, "status": "smpp-receipt", "stat": receipt.stat}
            UnmatchedReport.objects.create(
                kind=UnmatchedReport.Kind.REPORT,
                operator_id=key,
                payload={**payload, "err": receipt.err, "smsc_id": receipt.smsc_id},
                received_at=now,
            )
        return False
    SmppPart.objects.filter(pk=part.pk).update(stat=receipt.stat, err=receipt.err, reported_at=now)
    # The parts of the submission that carries the message now: the latest set on this route,
    # the one whose first part's id the message records.
    first = (
        SmppPart.objects.filter(
            route=route, message_id=message.pk, part=1, smsc_id=message.operator_id
        )
        .values_list("pk", flat=True)
        .first()
    )
    if message.route_id != route.pk or first is None or part.pk < first:
        # A receipt of a submission the message has left (a delivery error moved it to another
        # route, or it was sent again): its timeline only, never a decision.
        _part_event(part, receipt, now)
        return True
    stats = list(
        SmppPart.objects.filter(route=route, message_id=message.pk, pk__gte=first).values_list(
            "stat", "err"
        )
    )
    failing = [
        (s, e) for s, e in stats if smpp_codec.RECEIPT_STATUS.get(s, "delivered") != "delivered"
    ]
    if failing:
        stat, err = failing[0]
        final = smpp_codec.RECEIPT_STATUS[stat]
    elif len(stats) == part.parts and all(s == "DELIVRD" for s, _e in stats):
        final, err = "delivered", ""
    else:
        # Not decided yet: this part's receipt only goes on the message's timeline.
        _part_event(part, receipt, now)
        return True
    if final != "delivered" and err.upper() in route.failover_codes():
        if delivery_failover(route, message, reason=f"DLR_{err}"[:32]):
            return True
    # The deciding receipt, as the report of the message's last part (the panel's reports
    # decide on the last part; here any part's failure, or the last delivery, decides).
    reports.delivery_reports_receive(
        reports=[
            {
                "operator_id": message.operator_id,
                "status": final,
                "part": part.parts,
                "parts": part.parts,
                "error_code": err,
                "at": now.isoformat(),
            }
        ]
    )
    return True


def _part_event(part: SmppPart, receipt: smpp_codec.Receipt, now) -> None:
    MessageEvent.objects.create(
        message_id=part.message_id,
        at=now,
        kind=MessageEvent.Kind.REPORT,
        status=smpp_codec.RECEIPT_STATUS.get(receipt.stat, receipt.stat.lower())[:16],
        error_code=receipt.err,
        part=part.part,
        parts=part.parts,
    )


def _kept_key(route: Route, smsc_id: str) -> str:
    return f"smpp:{route.pk}:{smsc_id}"[:64]


def kept_receipts_apply(route: Route, smsc_ids: list[str] | None = None) -> int:
    """Apply receipts kept before their part was recorded (those of `smsc_ids`, or all of
    the route's); returns how many were applied."""
    kept = UnmatchedReport.objects.filter(kind=UnmatchedReport.Kind.REPORT)
    if smsc_ids is None:
        # The heartbeat's sweep: receipts of the last hour, a bounded number. Older ones are
        # for parts never recorded (a submission whose answer was lost): they stay listed
        # for staff, and would otherwise be read again on every heartbeat, forever.
        recent = timezone.now() - KEPT_SWEEP
        kept = kept.filter(operator_id__startswith=f"smpp:{route.pk}:", received_at__gte=recent)
        kept = kept.order_by("received_at")[:KEPT_SWEEP_BATCH]
    else:
        if not kept.exists():
            return 0
        kept = kept.filter(operator_id__in=[_kept_key(route, i) for i in smsc_ids])
    applied = []
    for pk, payload in kept.values_list("id", "payload"):
        receipt = smpp_codec.Receipt(payload["smsc_id"], payload["stat"], payload["err"])
        if receipt_apply(route, receipt, kept=True):
            applied.append(pk)
    UnmatchedReport.objects.filter(pk__in=applied).delete()
    return len(applied)


def delivery_failover(route: Route, message: OutgoingMessage, *, reason: str) -> bool:
    """A delivery error the route lists as its own problem: the message goes back to the
    queue, due now, and routing passes over this route for it."""
    with transaction.atomic():
        moved = OutgoingMessage.objects.filter(pk=message.pk, status=_Q.SUBMITTED).update(
            status=_Q.QUEUED, next_attempt_at=timezone.now(), operator_id="", route=None
        )
        if not moved:
            return False
        # It will be submitted again: the dashboard's totals take back this submission.
        account_id, created_at = OutgoingMessage.objects.values_list(
            "account_id", "created_at"
        ).get(pk=message.pk)
        totals.add([(account_id, created_at, _Q.SUBMITTED, -1, 0)])
        SmppOutbox.objects.filter(pk=message.pk).delete()
        RouteFailover.objects.create(message_id=message.pk, from_route=route, reason=reason)
        dispatch.wake_on_commit()  # sent again now, not at the next beat tick
    return True


def mo_receive(route: Route, *, number: str, text: str) -> None:
    """An SMS from a handset: a reply to the latest message this route carried to that
    number (a STOP puts it on the account's STOP list). One matching no message is kept for
    staff (UnmatchedReport, operator id "mo:<number>")."""
    digits = "".join(ch for ch in number if ch.isdigit())
    receiver = f"+{digits}"
    latest = (
        OutgoingMessage.objects.filter(route=route, receiver=receiver)
        .exclude(operator_id="")
        .order_by("-id")
        .values_list("operator_id", flat=True)
        .first()
    )
    reports.incoming_messages_receive(
        replies=[
            {
                "operator_id": latest or f"mo:{receiver}",
                "text": text,
                "at": timezone.now().isoformat(),
            }
        ]
    )
