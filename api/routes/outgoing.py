"""/sms/{serviceName}/outgoing: messages handed to the operator, and their OVHcloud shape
(shared with /jobs, since a job id is a message id)."""

from datetime import datetime
from uuid import UUID

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from messaging.models import OutgoingMessage

from .. import schemas
from ..errors import ApiError
from ..schemas import responses
from .base import DATE_FROM, DATE_TO, account_for, between, done, stored_number

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
        # Outgoing messages carry their campaign's uuid (issue #20).
        "batchID": job.campaign.uuid if job.campaign_id else None,
        "messageID": None,
    }


def sent(account, sms_user=None):
    """The account's (or one SMS user's) messages handed to the operator; those still pending
    are under /jobs."""
    qs = OutgoingMessage.objects.filter(account=account).exclude(
        status__in=OutgoingMessage.IN_FLIGHT
    )
    qs = qs.exclude(status=_Q.CANCELLED)
    return qs.filter(job__sms_user=sms_user) if sms_user is not None else qs


class SentFilters(Schema):
    """OVHcloud's filters of the outgoing lists (the account's, a user's, a virtual number's)."""

    date_from: datetime | None = Field(None, alias=DATE_FROM)
    date_to: datetime | None = Field(None, alias=DATE_TO)
    receiver: str | None = None
    sender: str | None = None
    tag: str | None = None
    deliveryReceipt: int | None = None
    ptt: int | None = None
    differedDelivery: int | None = None

    def apply(self, qs, account):
        qs = between(qs, "created_at", self.date_from, self.date_to)
        if self.receiver:
            qs = qs.filter(receiver=stored_number(self.receiver, account))
        if self.sender is not None:
            qs = qs.filter(job__sender_label=self.sender)
        if self.tag is not None:
            qs = qs.filter(job__tag=self.tag)
        if self.deliveryReceipt is not None:
            codes = [s for s, v in DELIVERY_RECEIPT.items() if v == self.deliveryReceipt]
            qs = qs.filter(status__in=codes)
        if self.ptt is not None:
            qs = qs.filter(status__in=[s for s, v in PTT.items() if v == self.ptt])
        if self.differedDelivery is not None:
            qs = qs.filter(job__scheduled_at__isnull=self.differedDelivery == 0)
        return list(qs.order_by("-id").values_list("id", flat=True))


@router.get("/sms/{serviceName}/outgoing", response=responses(list[int]))
def outgoing_list(
    request,
    serviceName: str,
    filters: Query[SentFilters],
    batchID: UUID | None = None,
    messageID: UUID | None = None,
):
    """Ids of sent messages, newest first (messages still pending are under /jobs)."""
    account = account_for(request, serviceName)
    qs = sent(account)
    if batchID is not None:
        qs = qs.filter(job__campaign__uuid=batchID)
    if messageID is not None:
        qs = qs.none()  # SMPP sends nothing yet: no message has one
    return filters.apply(qs, account)


def sent_message(qs, pk: int) -> OutgoingMessage:
    return get_object_or_404(qs.select_related("job", "job__campaign"), pk=pk)


def sent_delete(qs, pk: int):
    """Remove a message from the history once it is final (a message still waiting for its
    report would come back with it)."""
    message = get_object_or_404(qs, pk=pk)
    if message.status not in OutgoingMessage.FINAL:
        raise ApiError(
            400, "This SMS is still waiting for its delivery report: delete it later", "TOO_EARLY"
        )
    message.delete()
    return done()


@router.get("/sms/{serviceName}/outgoing/{id}", response=responses(schemas.OutgoingOut))
def outgoing_get(request, serviceName: str, id: int):
    account = account_for(request, serviceName)
    return message_out(sent_message(OutgoingMessage.objects.filter(account=account), id))


@router.delete("/sms/{serviceName}/outgoing/{id}", response=responses(None))
def outgoing_delete(request, serviceName: str, id: int):
    return sent_delete(sent(account_for(request, serviceName)), id)
