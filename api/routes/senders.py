"""/sms/{serviceName}/senders and sendersAvailableForValidation: sender names."""

from django.shortcuts import get_object_or_404
from ninja import Router

from senders import services as sender_services
from senders.forms import ManualSenderForm, SenderEditForm
from senders.models import Sender
from senders.selectors import domain_candidates, profile_candidates

from .. import schemas
from ..errors import ApiError
from ..schemas import responses
from .base import account_for, column, done, form_invalid

router = Router(tags=["senders"])


def _sender_out(sender: Sender) -> dict:
    return {
        "sender": sender.sender,
        "description": sender.description,
        "status": sender.status,
        "referer": sender.referer,
        "type": sender.type,
        "comment": sender.comment or None,
    }


def _sender(request, service_name: str, name: str) -> Sender:
    account = account_for(request, service_name)
    return get_object_or_404(Sender, account=account, sender__iexact=name)


@router.get("/sms/{serviceName}/senders", response=responses(list[str]))
def senders_list(request, serviceName: str):
    return column(request, serviceName, Sender, "sender")


def _available(account) -> dict[str, tuple[str, str]]:
    """Senders the account may enable at once: name -> (OVH referer, where it comes from)."""
    found = {name: ("nichandle", origin) for name, origin in profile_candidates(account).items()}
    for name, origin in domain_candidates(account).items():
        found.setdefault(name, ("domain", origin))
    return found


@router.get("/sms/{serviceName}/sendersAvailableForValidation",
            response=responses(list[schemas.SenderAvailable]))  # fmt: skip
def senders_available(request, serviceName: str, referer: str | None = None):
    """Names taken from the holders' profiles (nichandle) or their domains (domain)."""
    account = account_for(request, serviceName)
    return [
        {"sender": name, "referer": kind}
        for name, (kind, _origin) in _available(account).items()
        if referer in (None, kind)
    ]


@router.post("/sms/{serviceName}/senders", response=responses(str))
def senders_create(request, serviceName: str, payload: schemas.SenderIn):
    """Request a sender name; staff validate it (status waitingValidation until then). With
    reason "sendersAvailableForValidation", a name from that list is enabled at once."""
    account = account_for(request, serviceName)
    if payload.reason == "sendersAvailableForValidation":
        available = _available(account)
        if payload.sender not in available:
            raise ApiError(
                400, f"{payload.sender} is not available for validation", "INVALID_SENDER"
            )
        kind, origin = available[payload.sender]
        try:
            sender = sender_services.sender_create_validated(
                account=account,
                sender=payload.sender,
                referer=Sender.Referer.NIC if kind == "nichandle" else Sender.Referer.DOMAIN,
                origin=origin,
                description=(payload.description or "")[:40],
            )
        except sender_services.SenderError as exc:
            raise ApiError.invalid(str(exc)) from None
        return sender.sender
    form = ManualSenderForm(
        data={
            "sender": payload.sender,
            "description": payload.description or "",
            # OVHcloud makes the justification optional through the API.
            "reason": payload.reason or "Requested through the API",
        },
        account=account,
    )
    if not form.is_valid():
        raise form_invalid(form)
    try:
        sender = sender_services.sender_request_create(
            account=account,
            sender=form.cleaned_data["sender"],
            reason=form.cleaned_data["reason"],
            description=form.cleaned_data["description"],
        )
    except sender_services.SenderError as exc:
        raise ApiError.invalid(str(exc)) from None
    # OVHcloud answers a string (the name requested).
    return sender.sender


@router.get("/sms/{serviceName}/senders/{sender}", response=responses(schemas.SenderOut))
def senders_get(request, serviceName: str, sender: str):
    return _sender_out(_sender(request, serviceName, sender))


@router.put("/sms/{serviceName}/senders/{sender}", response=responses(None))
def senders_update(request, serviceName: str, sender: str, payload: schemas.SenderUpdate):
    obj = _sender(request, serviceName, sender)
    description = obj.description if payload.description is None else payload.description
    form = SenderEditForm(data={"description": description}, instance=obj)
    if not form.is_valid():
        raise form_invalid(form)
    form.save()
    if payload.status is not None:
        try:
            sender_services.sender_set_enabled(obj, enabled=payload.status == "enable")
        except sender_services.SenderError as exc:
            raise ApiError.invalid(str(exc)) from None
    return done()


@router.delete("/sms/{serviceName}/senders/{sender}", response=responses(None))
def senders_delete(request, serviceName: str, sender: str):
    try:
        sender_services.sender_delete(_sender(request, serviceName, sender))
    except sender_services.SenderError as exc:
        raise ApiError(400, str(exc), "SENDER_IN_USE") from None
    return done()
