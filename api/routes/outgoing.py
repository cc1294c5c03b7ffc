"""/sms/{serviceName}/outgoing: messages handed to the operator, and their OVHcloud shape
(shared with /jobs, since a job id is a message id)."""

from datetime import datetime
from typing import Annotated

from django.shortcuts import get_object_or_404
from ninja import Query, Router

from messaging.models import OutgoingMessage
from messaging.selectors import MAX_ID

from .. import schemas
from ..schemas import responses
from .base import DATE_FROM, DATE_TO, account_for, between, stored_number

router = Router(tags=["outgoing"])

_Q = OutgoingMessage.Status
# OVHcloud's deliveryReceipt values are the SMSC's delivery report codes.
DELIVERY_RECEIPT = {
    _Q.QUEUED: 0,  # nothing yet
    _Q.SUBMITTING: 0,
    _Q.SUBMITTED: 8,  # accepted by the operator
    _Q.DELIVERED: 1,  # delivered to the phone
    _Q.UNDELIVERED: 2,  # the operator could not deliver it
    _Q.EXPIRED: 2,
    _Q.FAILED: 16,  # refused before or by the operator
    _Q.STOPLISTED: 16,
}
# ptt: 0 waiting or sent, 1 delivered, 2 not delivered, 3 expired, 4 failed, 5 STOP list.
PTT = {
    _Q.QUEUED: 0,
    _Q.SUBMITTING: 0,
    _Q.SUBMITTED: 0,
    _Q.DELIVERED: 1,
    _Q.UNDELIVERED: 2,
    _Q.EXPIRED: 3,
    _Q.FAILED: 4,
    _Q.STOPLISTED: 5,
}


def message_out(message: OutgoingMessage) -> dict:
    job = message.job
    text = message.text or job.message
    planned = job.scheduled_at or job.created_at
    return {
        "id": message.pk,
        "creationDatetime": message.created_at,
        "credits": float(message.credits),
        "deliveryReceipt": DELIVERY_RECEIPT.get(message.status, 0),
        "differedDelivery": max(0, int((planned - job.created_at).total_seconds() // 60)),
        "message": text,
        "messageLength": len(text),
        "numberOfSms": message.parts,
        "ptt": PTT.get(message.status, 0),
        "receiver": message.receiver,
        "sender": job.sender_label,
        "sentAt": message.submitted_at,
        "deliveredAt": message.delivered_at,
        "tag": job.tag,
        "tariffCode": message.country,
    }


@router.get("/sms/{serviceName}/outgoing", response=responses(list[int]))
def outgoing_list(
    request,
    serviceName: str,
    date_from: Annotated[datetime | None, Query(alias=DATE_FROM)] = None,
    date_to: Annotated[datetime | None, Query(alias=DATE_TO)] = None,
    receiver: str | None = None,
    sender: str | None = None,
    tag: str | None = None,
    deliveryReceipt: int | None = None,
    ptt: int | None = None,
    differedDelivery: int | None = None,
    batchID: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
):
    """Ids of sent messages, newest first (messages still pending are under /jobs)."""
    account = account_for(request, serviceName)
    qs = OutgoingMessage.objects.filter(account=account).exclude(
        status__in=OutgoingMessage.IN_FLIGHT  # under jobs
    )
    qs = qs.exclude(status=_Q.CANCELLED)
    qs = between(qs, "created_at", date_from, date_to)
    if receiver:
        qs = qs.filter(receiver=stored_number(receiver, account))
    if sender is not None:
        qs = qs.filter(job__sender_label=sender)
    if tag is not None:
        qs = qs.filter(job__tag=tag)
    if deliveryReceipt is not None:
        qs = qs.filter(status__in=[s for s, v in DELIVERY_RECEIPT.items() if v == deliveryReceipt])
    if ptt is not None:
        qs = qs.filter(status__in=[s for s, v in PTT.items() if v == ptt])
    if differedDelivery is not None:
        qs = qs.filter(job__scheduled_at__isnull=differedDelivery == 0)
    if batchID is not None:
        qs = qs.filter(job_id=batchID)
    return list(qs.order_by("-id").values_list("id", flat=True))


@router.get("/sms/{serviceName}/outgoing/{id}", response=responses(schemas.OutgoingOut))
def outgoing_get(request, serviceName: str, id: int):
    account = account_for(request, serviceName)
    qs = OutgoingMessage.objects.filter(account=account).select_related("job")
    return message_out(get_object_or_404(qs, pk=id))
