"""/sms/{serviceName}/blacklists: the account's STOP list."""

from typing import Annotated
from uuid import UUID

from django.shortcuts import get_object_or_404
from ninja import Query, Router

from messaging.models import StopListEntry
from messaging.selectors import MAX_ID

from .. import schemas
from ..schemas import responses
from .base import account_for, done, stored_number

router = Router(tags=["blacklists"])


@router.get("/sms/{serviceName}/blacklists", response=responses(list[str]))
def blacklists_list(
    request,
    serviceName: str,
    batchID: UUID | None = None,
    smsOutgoingID: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
):
    """Numbers on the STOP list; smsOutgoingID: the one whose STOP answered that message."""
    qs = StopListEntry.objects.filter(account=account_for(request, serviceName))
    if batchID is not None:
        qs = qs.filter(outgoing__job__campaign__uuid=batchID)  # STOPs answering the campaign
    if smsOutgoingID is not None:
        qs = qs.filter(outgoing_id=smsOutgoingID)
    return list(qs.order_by("-id").values_list("number", flat=True))


def _stop_entry(request, service_name: str, value: str) -> StopListEntry:
    account = account_for(request, service_name)
    return get_object_or_404(StopListEntry, account=account, number=stored_number(value, account))


@router.get("/sms/{serviceName}/blacklists/{number}", response=responses(schemas.BlacklistOut))
def blacklists_get(request, serviceName: str, number: str):
    entry = _stop_entry(request, serviceName, number)
    job = entry.outgoing.job if entry.outgoing_id else None
    batch = job.campaign.uuid if job is not None and job.campaign_id else None
    return {"number": entry.number, "dateCreation": entry.created_at, "batchID": batch,
            "smsOutgoingID": entry.outgoing_id}  # fmt: skip


@router.delete("/sms/{serviceName}/blacklists/{number}", response=responses(None))
def blacklists_delete(request, serviceName: str, number: str):
    _stop_entry(request, serviceName, number).delete()
    return done()
