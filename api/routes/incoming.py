"""/sms/{serviceName}/incoming: replies received by the account (and the helpers the SMS users'
and virtual numbers' incoming routes share)."""

from datetime import datetime
from typing import Annotated

from django.shortcuts import get_object_or_404
from ninja import Query, Router

from messaging.models import IncomingMessage

from .. import schemas
from ..schemas import responses
from .base import DATE_FROM, DATE_TO, account_for, between, done, stored_number

router = Router(tags=["incoming"])


def replies(account, sms_user=None):
    """The account's replies, or those answering one SMS user's messages."""
    qs = IncomingMessage.objects.filter(account=account)
    return qs.filter(outgoing__job__sms_user=sms_user) if sms_user is not None else qs


def reply_ids(qs, account, *, sender=None, tag=None, date_from=None, date_to=None) -> list[int]:
    qs = between(qs, "received_at", date_from, date_to)
    if sender:
        qs = qs.filter(sender=stored_number(sender, account))
    if tag is not None:
        qs = qs.filter(tag=tag)
    return list(qs.order_by("-id").values_list("id", flat=True))


def reply_out(reply: IncomingMessage) -> dict:
    return {
        "id": reply.pk,
        "creationDatetime": reply.received_at,
        "credits": 0,
        "message": reply.text,
        "sender": reply.sender,
        "tag": reply.tag,
    }


@router.get("/sms/{serviceName}/incoming", response=responses(list[int]))
def incoming_list(
    request,
    serviceName: str,
    date_from: Annotated[datetime | None, Query(alias=DATE_FROM)] = None,
    date_to: Annotated[datetime | None, Query(alias=DATE_TO)] = None,
    sender: str | None = None,
    tag: str | None = None,
):
    account = account_for(request, serviceName)
    return reply_ids(replies(account), account, sender=sender, tag=tag, date_from=date_from,
                     date_to=date_to)  # fmt: skip


@router.get("/sms/{serviceName}/incoming/{id}", response=responses(schemas.IncomingOut))
def incoming_get(request, serviceName: str, id: int):
    return reply_out(get_object_or_404(replies(account_for(request, serviceName)), pk=id))


@router.delete("/sms/{serviceName}/incoming/{id}", response=responses(None))
def incoming_delete(request, serviceName: str, id: int):
    get_object_or_404(replies(account_for(request, serviceName)), pk=id).delete()
    return done()
