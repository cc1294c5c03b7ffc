"""/sms/{serviceName}/jobs: send or plan a message; list, read and cancel the pending ones.

A job id is the id of one message to one receiver (as on OVHcloud), the id it keeps under
/outgoing once sent."""

from datetime import timedelta

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router

from addressbooks.models import RecipientList
from core import recipients as rcpt
from messaging import services as sending
from messaging.models import OutgoingMessage, SmsJob
from messaging.selectors import collect_recipients
from senders.models import Sender

from .. import schemas
from ..errors import ApiError
from ..schemas import responses
from .base import account_for, done, once_per_key, parse_id, user_for
from .outgoing import message_out

router = Router(tags=["jobs"])

_Q = OutgoingMessage.Status


def _receivers(account, payload: schemas.JobIn) -> rcpt.ParsedRecipients:
    """The send form's recipients (collect_recipients): typed numbers, then a list's."""
    if payload.receiversDocumentUrl:
        raise ApiError(
            400, "receiversDocumentUrl is not supported: use receivers or receiversSlotId"
        )
    if not payload.receivers and not payload.receiversSlotId:
        raise ApiError.invalid("Give receivers or receiversSlotId")
    lists = []
    if payload.receiversSlotId:
        slot = payload.receiversSlotId
        slot_id = parse_id(slot)
        rlist = (
            RecipientList.objects.filter(account=account, slot=slot_id).first()
            if slot_id is not None
            else None
        )
        if rlist is None:
            raise ApiError.invalid(f"Invalid receiversSlotId: {slot}")
        lists.append(rlist)
    return collect_recipients(
        account=account, typed="\n".join(payload.receivers or []), lists=lists
    )


@router.post("/sms/{serviceName}/jobs", response=responses(schemas.SendingReport))
def jobs_create(request, serviceName: str, payload: schemas.JobIn):
    """Send (or plan, with differedPeriod in minutes) one message to its receivers."""
    return send(request, account_for(request, serviceName), payload)


def send(request, account, payload: schemas.JobIn, sms_user=None, sender=None) -> dict:
    """POST …/jobs of the account, of one of its SMS users or from a virtual number (`sender`):
    the sending report.

    With an `Idempotency-Key` header, a request repeated with the same key within 24 hours gets
    the first one's answer and sends and charges nothing: a script may retry after a network
    error safely (base.once_per_key)."""
    return once_per_key(
        request, account, lambda: _send(request, account, payload, sms_user, sender)
    )


def _send(request, account, payload: schemas.JobIn, sms_user, sender) -> dict:
    parsed = _receivers(account, payload)
    if sender is None and payload.sender and not payload.senderForResponse:
        # The send form's rule (SendForm.clean_sender): an enabled sender of this account.
        sender = Sender.objects.filter(account=account, sender=payload.sender).enabled().first()
        if sender is None:
            raise ApiError(400, f"Invalid sender: {payload.sender}", "INVALID_SENDER")
    invalid = [raw for raw, _reason in parsed.invalid]
    tag = payload.tag or ""
    if not parsed.valid:
        return {"ids": [], "invalidReceivers": invalid, "validReceivers": [],
                "totalCreditsRemoved": 0, "tag": tag}  # fmt: skip
    now = timezone.now()
    planned = now + timedelta(minutes=payload.differedPeriod) if payload.differedPeriod else None
    try:
        job = sending.job_submit(
            account=account,
            user=user_for(request),
            message=payload.message,
            parsed=parsed,
            sender=sender,
            stop_clause=not payload.noStopClause,
            sms_class=payload.sms_class,
            tag=tag,
            scheduled_at=planned,
            now=now,
            message_rows_now=True,
            validity_period=payload.validityPeriod,
            sms_user=sms_user,
        )
    except sending.SendError as exc:
        raise ApiError(400, str(exc), "SEND_REFUSED") from None
    rows = (
        OutgoingMessage.objects.filter(job=job)
        .order_by("id")
        .values_list("id", "receiver", "status")
    )
    # Dispatch may already have begun: every row but the STOP-listed ones is a sent SMS.
    sent = [(pk, number) for pk, number, status in rows if status != _Q.STOPLISTED]
    return {
        "ids": [pk for pk, _n in sent],
        "invalidReceivers": [raw for raw, _reason in job.invalid_receivers]
        + [number for _pk, number, status in rows if status == _Q.STOPLISTED],
        "validReceivers": [number for _pk, number in sent],
        "totalCreditsRemoved": float(job.credits),
        "tag": tag,
    }


def pending(account, sms_user=None):
    """Messages not handed to the operator yet: OVHcloud's pending jobs (of one SMS user)."""
    qs = OutgoingMessage.objects.filter(
        account=account,
        status__in=OutgoingMessage.IN_FLIGHT,
        job__status__in=SmsJob.UNSENT,
    )
    return qs.filter(job__sms_user=sms_user) if sms_user is not None else qs


def pending_cancel(qs, pk: int):
    """Cancel a planned message; its credits come back."""
    message = get_object_or_404(qs, pk=pk)
    if not sending.message_cancel(message=message):
        raise ApiError(400, "This SMS is already being sent: it cannot be cancelled", "TOO_LATE")
    return done()


@router.get("/sms/{serviceName}/jobs", response=responses(list[int]))
def jobs_list(request, serviceName: str):
    account = account_for(request, serviceName)
    return list(pending(account).order_by("id").values_list("id", flat=True))


@router.get("/sms/{serviceName}/jobs/{id}", response=responses(schemas.JobOut))
def jobs_get(request, serviceName: str, id: int):
    account = account_for(request, serviceName)
    return message_out(get_object_or_404(pending(account).select_related("job"), pk=id))


@router.delete("/sms/{serviceName}/jobs/{id}", response=responses(None))
def jobs_delete(request, serviceName: str, id: int):
    """Cancel a planned message; its credits come back."""
    return pending_cancel(pending(account_for(request, serviceName)), id)
