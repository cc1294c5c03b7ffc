"""/sms/{serviceName}/incoming: replies received by the account."""

from datetime import datetime
from typing import Annotated

from django.shortcuts import get_object_or_404
from ninja import Query, Router

from messaging.models import IncomingMessage

from .. import schemas
from ..schemas import responses
from .base import DATE_FROM, DATE_TO, account_for, between, done, stored_number

router = Router(tags=["incoming"])


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
    qs = between(IncomingMessage.objects.filter(account=account), "received_at", date_from, date_to)
    if sender:
        qs = qs.filter(sender=stored_number(sender, account))
    if tag is not None:
        qs = qs.filter(tag=tag)
    return list(qs.order_by("-id").values_list("id", flat=True))


def _incoming(request, service_name: str, pk: int) -> IncomingMessage:
    account = account_for(request, service_name)
    return get_object_or_404(IncomingMessage, account=account, pk=pk)


@router.get("/sms/{serviceName}/incoming/{id}", response=responses(schemas.IncomingOut))
def incoming_get(request, serviceName: str, id: int):
    reply = _incoming(request, serviceName, id)
    return {
        "id": reply.pk,
        "creationDatetime": reply.received_at,
        "credits": 0,
        "message": reply.text,
        "sender": reply.sender,
        "tag": reply.tag,
    }


@router.delete("/sms/{serviceName}/incoming/{id}", response=responses(None))
def incoming_delete(request, serviceName: str, id: int):
    _incoming(request, serviceName, id).delete()
    return done()
