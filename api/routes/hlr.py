"""/sms/{serviceName}/hlr: number lookups (valid, reachable, ported, roaming, operator), charged
in credits (messaging.hlr) and answered by the simulated operator; and the numbering-plan facts
of a sent message's receiver (…/outgoing/{id}/hlr, free)."""

from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from messaging import hlr as lookups
from messaging.models import HlrLookup, OutgoingMessage
from messaging.operator.hlr import number_info
from messaging.selectors import collect_recipients
from messaging.services import SendError

from .. import schemas
from ..errors import ApiError
from ..schemas import responses
from .base import account_for, user_for
from .outgoing import sent
from .users import sms_user_for

router = Router(tags=["hlr"])


class HlrIn(Schema):
    receivers: list[str] | None = Field(None, max_length=10_000)
    receiversDocumentUrl: str | None = Field(None, max_length=2000)


class HlrLookupNumber(Schema):
    datetime: datetime
    id: int
    msisdn: str
    operatorCode: str
    ported: bool
    reachable: bool
    roaming: bool
    status: str
    valid: bool


class Hlr(Schema):
    country: str
    countryCode: str
    network: str
    operator: str
    region: str


def hlr_out(number: str) -> dict:
    info = number_info(number)
    return {"country": info.country.lower(), "countryCode": info.country_code,
            "network": info.network, "operator": info.operator, "region": info.region}  # fmt: skip


@router.get("/sms/{serviceName}/hlr", response=responses(list[int]))
def hlr_list(request, serviceName: str):
    account = account_for(request, serviceName)
    return list(HlrLookup.objects.filter(account=account).values_list("id", flat=True))


@router.post("/sms/{serviceName}/hlr", response=responses(schemas.SendingReport))
def hlr_create(request, serviceName: str, payload: HlrIn):
    """Look numbers up: a tenth of an SMS part to each number's country, charged at once."""
    account = account_for(request, serviceName)
    if payload.receiversDocumentUrl:
        raise ApiError(400, "receiversDocumentUrl is not supported: give receivers")
    if not payload.receivers:
        raise ApiError.invalid("Give receivers")
    parsed = collect_recipients(account=account, typed="\n".join(payload.receivers))
    try:
        done, refused = lookups.hlr_request(account=account, user=user_for(request),
                                            parsed=parsed)  # fmt: skip
    except SendError as exc:
        raise ApiError(400, str(exc), "NOT_ENOUGH_CREDITS") from None
    return {"ids": [h.pk for h in done], "validReceivers": [h.number for h in done],
            "invalidReceivers": [raw for raw, _reason in refused],
            "totalCreditsRemoved": float(sum(h.credits for h in done)), "tag": ""}  # fmt: skip


def _lookup(request, service_name: str, pk: int) -> HlrLookup:
    return get_object_or_404(HlrLookup, account=account_for(request, service_name), pk=pk)


@router.get("/sms/{serviceName}/hlr/{id}", response=responses(HlrLookupNumber))
def hlr_get(request, serviceName: str, id: int):
    h = _lookup(request, serviceName, id)
    return {"datetime": h.created_at, "id": h.pk, "msisdn": h.number,
            "operatorCode": h.operator_code, "ported": h.ported, "reachable": h.reachable,
            "roaming": h.roaming, "status": h.status, "valid": h.valid}  # fmt: skip


@router.get("/sms/{serviceName}/hlr/{id}/operator", response=responses(Hlr))
def hlr_operator(request, serviceName: str, id: int):
    return hlr_out(_lookup(request, serviceName, id).number)


def message_hlr(qs, pk: int) -> dict:
    return hlr_out(get_object_or_404(qs, pk=pk).receiver)


@router.get("/sms/{serviceName}/outgoing/{id}/hlr", response=responses(Hlr))
def outgoing_hlr(request, serviceName: str, id: int):
    account = account_for(request, serviceName)
    return message_hlr(OutgoingMessage.objects.filter(account=account), id)


@router.get("/sms/{serviceName}/users/{login}/outgoing/{id}/hlr", response=responses(Hlr))
def user_outgoing_hlr(request, serviceName: str, login: str, id: int):
    user = sms_user_for(request, serviceName, login)
    return message_hlr(sent(user.account, user), id)
