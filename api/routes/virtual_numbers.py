"""Virtual numbers (senders that allow replies, given to an account by staff):
/sms/{serviceName}/virtualNumbers — their jobs, outgoing, incoming and chatAccess — and
/sms/virtualNumbers, where each number is also a service of its own."""

from datetime import datetime

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Schema

from messaging import hlr as lookups
from messaging.models import IncomingMessage
from messaging.operator.hlr import number_info
from senders.models import Sender

from .. import schemas
from ..errors import ApiError
from ..schemas import responses
from .account import check_renew, service_infos_of
from .base import account_for, done, stored_number
from .hlr import Hlr, message_hlr
from .incoming import reply_ids, reply_out
from .jobs import pending, pending_cancel, send
from .outgoing import SentFilters, message_out, sent, sent_delete, sent_message

router = Router(tags=["virtualNumbers"])

_VN = "/sms/{serviceName}/virtualNumbers/{number}"


class VirtualNumber(Schema):
    countryCode: str
    number: str


class ChatAccess(Schema):
    creationDate: datetime
    id: int
    url: str


class VirtualNumberJob(Schema):
    creationDatetime: datetime
    credits: float
    deliveryReceipt: int
    differedDelivery: int
    id: int
    message: str
    messageLength: int
    numberOfSms: int
    ptt: int
    receiver: str


def _numbers(account):
    return Sender.objects.filter(account=account, type=Sender.Type.VIRTUAL)


def _number(account, number: str) -> Sender:
    found = _numbers(account).filter(sender__in={number, stored_number(number, account)}).first()
    if found is None:
        raise Http404
    return found


def _virtual(request, service_name: str, number: str) -> Sender:
    return _number(account_for(request, service_name), number)


def _out(sender: Sender) -> dict:
    country = number_info(sender.sender).country.lower()
    return {"countryCode": "uk" if country == "gb" else country, "number": sender.sender}


def _replies(sender: Sender):
    return IncomingMessage.objects.filter(account=sender.account, outgoing__job__sender=sender)


@router.get("/sms/{serviceName}/virtualNumbers", response=responses(list[str]))
def virtual_numbers_list(request, serviceName: str):
    return list(_numbers(account_for(request, serviceName)).values_list("sender", flat=True))


@router.get(_VN, response=responses(VirtualNumber))
def virtual_numbers_get(request, serviceName: str, number: str):
    return _out(_virtual(request, serviceName, number))


@router.get(_VN + "/chatAccess", response=responses(ChatAccess))
def chat_access_get(request, serviceName: str, number: str):
    sender = _virtual(request, serviceName, number)
    access = getattr(sender, "chat_access", None)
    if access is None:
        raise Http404
    return _chat_out(request, access)


def _chat_out(request, access) -> dict:
    url = request.build_absolute_uri(reverse("messaging:chat", args=[access.token]))
    return {"creationDate": access.created_at, "id": access.pk, "url": url}


@router.post(_VN + "/chatAccess", response=responses(ChatAccess))
def chat_access_create(request, serviceName: str, number: str):
    """A secret address where this number's conversations are read."""
    return _chat_out(request, lookups.chat_access_open(sender=_virtual(request, serviceName,
                                                                        number)))  # fmt: skip


@router.delete(_VN + "/chatAccess", response=responses(None))
def chat_access_delete(request, serviceName: str, number: str):
    if not lookups.chat_access_close(sender=_virtual(request, serviceName, number)):
        raise Http404
    return done()


@router.get(_VN + "/jobs", response=responses(list[int]))
def vn_jobs_list(request, serviceName: str, number: str):
    sender = _virtual(request, serviceName, number)
    qs = pending(sender.account).filter(job__sender=sender)
    return list(qs.order_by("id").values_list("id", flat=True))


@router.post(_VN + "/jobs", response=responses(schemas.SendingReport))
def vn_jobs_create(request, serviceName: str, number: str, payload: schemas.JobIn):
    """Send from this number: recipients can answer it."""
    sender = _virtual(request, serviceName, number)
    if sender.status != Sender.Status.ENABLE:
        raise ApiError(400, f"This virtual number is not enabled: {sender.sender}",
                       "INVALID_SENDER")  # fmt: skip
    return send(request, sender.account, payload, sender=sender)


@router.get(_VN + "/jobs/{id}", response=responses(VirtualNumberJob))
def vn_jobs_get(request, serviceName: str, number: str, id: int):
    sender = _virtual(request, serviceName, number)
    qs = pending(sender.account).filter(job__sender=sender).select_related("job")
    return message_out(get_object_or_404(qs, pk=id))


@router.delete(_VN + "/jobs/{id}", response=responses(None))
def vn_jobs_delete(request, serviceName: str, number: str, id: int):
    sender = _virtual(request, serviceName, number)
    return pending_cancel(pending(sender.account).filter(job__sender=sender), id)


def _sent(sender: Sender):
    return sent(sender.account).filter(job__sender=sender)


@router.get(_VN + "/outgoing", response=responses(list[int]))
def vn_outgoing_list(request, serviceName: str, number: str, filters: Query[SentFilters]):
    sender = _virtual(request, serviceName, number)
    return filters.apply(_sent(sender), sender.account)


@router.get(_VN + "/outgoing/{id}", response=responses(schemas.OutgoingOut))
def vn_outgoing_get(request, serviceName: str, number: str, id: int):
    return message_out(sent_message(_sent(_virtual(request, serviceName, number)), id))


@router.delete(_VN + "/outgoing/{id}", response=responses(None))
def vn_outgoing_delete(request, serviceName: str, number: str, id: int):
    return sent_delete(_sent(_virtual(request, serviceName, number)), id)


@router.get(_VN + "/outgoing/{id}/hlr", response=responses(Hlr))
def vn_outgoing_hlr(request, serviceName: str, number: str, id: int):
    return message_hlr(_sent(_virtual(request, serviceName, number)), id)


@router.get(_VN + "/incoming", response=responses(list[int]))
def vn_incoming_list(request, serviceName: str, number: str, sender: str | None = None,
                     tag: str | None = None):  # fmt: skip
    virtual = _virtual(request, serviceName, number)
    return reply_ids(_replies(virtual), virtual.account, sender=sender, tag=tag)


@router.get(_VN + "/incoming/{id}", response=responses(schemas.IncomingOut))
def vn_incoming_get(request, serviceName: str, number: str, id: int):
    return reply_out(get_object_or_404(_replies(_virtual(request, serviceName, number)), pk=id))


@router.delete(_VN + "/incoming/{id}", response=responses(None))
def vn_incoming_delete(request, serviceName: str, number: str, id: int):
    get_object_or_404(_replies(_virtual(request, serviceName, number)), pk=id).delete()
    return done()


# --- /sms/virtualNumbers: each number as a service of the key's account --------------------------


class VirtualNumberService(VirtualNumber):
    iam: dict | None = None


@router.get("/sms/virtualNumbers", response=responses(list[str]))
def vn_services(request):
    return list(_numbers(request.auth.application.account).values_list("sender", flat=True))


@router.get("/sms/virtualNumbers/{number}", response=responses(VirtualNumberService))
def vn_service(request, number: str):
    return {**_out(_number(request.auth.application.account, number)), "iam": None}


@router.get("/sms/virtualNumbers/{number}/serviceInfos",
            response=responses(schemas.ServiceInfos))  # fmt: skip
def vn_service_infos(request, number: str):
    account = request.auth.application.account
    sender = _number(account, number)
    return service_infos_of(account, domain=sender.sender, service_id=sender.pk,
                            created=timezone.localdate(sender.created_at))  # fmt: skip


@router.put("/sms/virtualNumbers/{number}/serviceInfos", response=responses(None))
def vn_service_infos_update(request, number: str, payload: schemas.ServiceInfosUpdate):
    _number(request.auth.application.account, number)
    return check_renew(payload)

