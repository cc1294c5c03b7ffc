"""/sms/{serviceName}/batches: campaigns in OVHcloud's shapes (sms.Batch, sms.BatchParams,
sms.BatchStatistics), over messaging.campaigns.

A batch created here is a campaign of one variant, sent as fast as dispatch goes; its
preparation (audience, charge, messages) runs in a task, so it answers INSERTING at first,
as OVHcloud does. Campaign statuses map onto sms.BatchStatusEnum (STATUS)."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Router, Schema

from addressbooks.models import RecipientList
from messaging import campaign_stats, campaigns
from messaging.models import Campaign, OutgoingMessage
from messaging.schedule import MAX_PLANNED_AHEAD
from senders.models import Sender

from ..errors import ApiError
from ..schemas import responses
from .base import account_for, done, once_per_key, parse_id, user_for

router = Router(tags=["batches"])

_C = Campaign.Status
STATUS = {
    _C.DRAFT: "INSERTING",
    _C.SCHEDULED: "INSERTED",
    _C.SENDING: "PENDING",
    _C.PAUSED: "PENDING",
    _C.COMPLETED: "COMPLETED",
    _C.CANCELLED: "CANCELED",
    _C.FAILED: "FAILED",
}
CLASSES = {"FLASH": "flash", "PHONE": "phoneDisplay", "SIM": "sim"}
BatchStatus = Literal[
    "CANCELED", "CANCELING", "COMPLETED", "FAILED", "INSERTED", "INSERTING", "PENDING", "TO_CANCEL"
]


class BatchIn(Schema):
    message: str = Field(..., max_length=50_000)
    name: str | None = Field(None, max_length=100)
    to: list[str] | None = Field(None, max_length=100_000)
    slotID: str | None = Field(None, max_length=20)
    sender: str | None = Field(None, alias="from", max_length=16)
    senderForResponse: bool = False
    noStop: bool = False
    sms_class: Literal["FLASH", "PHONE", "SIM"] = Field("PHONE", alias="class")
    deferred: datetime | None = None
    tag: str | None = Field(None, max_length=64)


class BatchUpdate(Schema):
    name: str = Field(..., min_length=1, max_length=100)


class BatchError(Schema):
    message: str
    receiver: str


class BatchOut(Schema):
    id: UUID
    accountID: int
    name: str
    message: str
    status: BatchStatus
    createdAt: datetime
    updatedAt: datetime
    startedAt: datetime | None = None
    finishedAt: datetime | None = None
    sentAt: datetime | None = None
    estimatedCredits: float
    processedRecords: int
    totalRecords: int
    receivers: list[str] | None = None
    slotID: str | None = None
    errors: list[BatchError]
    sender: str | None = Field(None, alias="from")


class BatchStatistics(Schema):
    id: UUID
    credits: float
    estimatedCredits: float
    sent: int
    delivered: int
    failed: int
    pending: int
    stoplisted: int


def batch_out(campaign: Campaign) -> dict:
    processed = OutgoingMessage.objects.filter(job__campaign=campaign).aggregate(
        n=Count("id", filter=~Q(status__in=OutgoingMessage.IN_FLIGHT))
    )["n"]
    typed = campaign.audience.get("typed", "")
    return {
        "id": campaign.uuid,
        "accountID": campaign.account_id,
        "name": campaign.name,
        "message": campaign.variants[0]["message"] if campaign.variants else "",
        "status": STATUS[campaign.status],
        "createdAt": campaign.created_at,
        "updatedAt": campaign.updated_at,
        "startedAt": campaign.started_at,
        "finishedAt": campaign.finished_at,
        "sentAt": campaign.start_at,
        "estimatedCredits": float(campaign.estimated_credits),
        "processedRecords": processed,
        "totalRecords": campaign.total_records,
        "receivers": typed.split("\n") if typed else None,
        "slotID": campaign.audience.get("slot"),
        "errors": [{"message": e["message"], "receiver": e["receiver"]} for e in campaign.errors],
        "from": campaign.sender.sender if campaign.sender_id else None,
    }


def _campaign(request, serviceName: str, id: UUID) -> Campaign:
    account = account_for(request, serviceName)
    return get_object_or_404(Campaign.objects.select_related("sender"), account=account, uuid=id)


@router.get("/sms/{serviceName}/batches", response=responses(list[BatchOut]), by_alias=True)
def batches_list(request, serviceName: str):
    account = account_for(request, serviceName)
    return [batch_out(c) for c in Campaign.objects.filter(account=account).select_related("sender")]


@router.post("/sms/{serviceName}/batches", response=responses(BatchOut), by_alias=True)
def batches_create(request, serviceName: str, payload: BatchIn):
    """Create a campaign: `to` and/or `slotID`, `from` or `senderForResponse`.

    With an `Idempotency-Key` header, a request repeated with the same key within 24 hours gets
    the first one's answer (the batch as it was then) and creates nothing (base.once_per_key)."""
    account = account_for(request, serviceName)
    return once_per_key(request, account, lambda: _create(request, account, payload))


def _create(request, account, payload: BatchIn) -> dict:
    if not payload.to and not payload.slotID:
        raise ApiError.invalid('Either "to" or "slotID" must be passed')
    lists = []
    if payload.slotID:
        slot = parse_id(payload.slotID)
        rlist = RecipientList.objects.filter(account=account, slot=slot).first() if slot else None
        if rlist is None:
            raise ApiError.invalid(f"Invalid slotID: {payload.slotID}")
        lists.append(rlist.pk)
    sender = None
    if payload.sender and not payload.senderForResponse:
        sender = Sender.objects.filter(account=account, sender=payload.sender).enabled().first()
        if sender is None:
            raise ApiError(400, f"Invalid sender: {payload.sender}", "INVALID_SENDER")
    now = timezone.now()
    if payload.deferred:
        deferred = payload.deferred
        if timezone.is_naive(deferred):
            deferred = timezone.make_aware(deferred)
        if deferred > now + MAX_PLANNED_AHEAD:
            raise ApiError.invalid("deferred: at most one year ahead")
    try:
        campaign = campaigns.campaign_create(
            account=account,
            user=user_for(request),
            name=payload.name or f"batch {now:%Y-%m-%d %H:%M}",
            variants=[{"message": payload.message, "share": 100}],
            audience={
                "typed": "\n".join(payload.to or []),
                "lists": lists,
                **({"slot": payload.slotID} if payload.slotID else {}),
            },
            sender=sender,
            stop_clause=not payload.noStop,
            sms_class=CLASSES[payload.sms_class],
            tag=payload.tag or "",
            start_at=deferred if payload.deferred else None,
            now=now,
        )
    except campaigns.CampaignError as error:
        raise ApiError.invalid(str(error)) from None
    # As JSON: the answer is stored for a repeat with the same Idempotency-Key.
    return BatchOut.model_validate(batch_out(campaign)).model_dump(mode="json", by_alias=True)


@router.get("/sms/{serviceName}/batches/{id}", response=responses(BatchOut), by_alias=True)
def batches_get(request, serviceName: str, id: UUID):
    return batch_out(_campaign(request, serviceName, id))


@router.put("/sms/{serviceName}/batches/{id}", response=responses(BatchOut), by_alias=True)
def batches_update(request, serviceName: str, id: UUID, payload: BatchUpdate):
    campaign = _campaign(request, serviceName, id)
    try:
        campaigns.campaign_rename(campaign, payload.name)
    except campaigns.CampaignError as error:
        raise ApiError.invalid(str(error)) from None
    campaign.refresh_from_db()
    return batch_out(campaign)


@router.delete("/sms/{serviceName}/batches/{id}", response=responses(None))
def batches_delete(request, serviceName: str, id: UUID):
    """Remove a finished batch (its messages stay under /outgoing, its links keep working)."""
    if not campaigns.campaign_delete(_campaign(request, serviceName, id)):
        raise ApiError(400, "This batch is still sending: cancel it first", "BATCH_NOT_FINISHED")
    return done()


@router.post("/sms/{serviceName}/batches/{id}/cancel", response=responses(BatchOut), by_alias=True)
def batches_cancel(request, serviceName: str, id: UUID):
    """Cancel a batch: messages not handed to the operator yet are cancelled and refunded."""
    campaign = _campaign(request, serviceName, id)
    if campaigns.campaign_cancel(campaign) is None:
        raise ApiError(400, "This batch cannot be cancelled any more", "BATCH_NOT_CANCELLABLE")
    campaign.refresh_from_db()
    return batch_out(campaign)


@router.get("/sms/{serviceName}/batches/{id}/statistics", response=responses(BatchStatistics))
def batches_statistics(request, serviceName: str, id: UUID):
    campaign = _campaign(request, serviceName, id)
    stats = campaign_stats.statistics(campaign)
    return {
        "id": campaign.uuid,
        "credits": float(stats["credits"]),
        "estimatedCredits": float(stats["estimated_credits"]),
        **{k: stats[k] for k in ("sent", "delivered", "failed", "pending", "stoplisted")},
    }
