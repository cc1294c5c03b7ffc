"""The OVHcloud-compatible API under /1.0: the same services as the web panel, OVH's shapes.

Identifiers follow OVHcloud: a "job" id is the id of one message to one receiver, the same id
it keeps in /outgoing once sent; a phonebook's bookKey is its id as text.
"""

import re
import tempfile
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import unquote, urlsplit

from django.core.files import File
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone, translation
from ninja import NinjaAPI, Query
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyHeader

from accounts.forms import AccountSettingsForm
from accounts.models import SmsAccount
from accounts.services import InsufficientCredits, credits_transfer
from addressbooks import lists as recipient_lists
from addressbooks import parsers
from addressbooks import services as books
from addressbooks.forms import (
    BookForm,
    ContactForm,
    ImportForm,
    RecipientListForm,
    import_max_bytes,
)
from addressbooks.models import AddressBook, Contact, RecipientList
from messaging import recipients as rcpt
from messaging import services as sending
from messaging import webhooks
from messaging.encoding import count
from messaging.forms import CallbackSettingsForm, collect_recipients
from messaging.models import (
    CallbackSettings,
    IncomingMessage,
    OutgoingMessage,
    SmsJob,
    StopListEntry,
)
from senders import services as sender_services
from senders.forms import (
    ManualSenderForm,
    SenderEditForm,
    domain_candidates,
    profile_candidates,
)
from senders.models import Sender

from . import ovh, schemas, services
from .models import ApiDocument, ConsumerKey, random_key
from .schemas import responses

_Q = OutgoingMessage.Status
# OVHcloud's deliveryReceipt values are the SMSC's delivery report codes.
DELIVERY_RECEIPT = {
    _Q.QUEUED: 0,  # nothing yet
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
    _Q.SUBMITTED: 0,
    _Q.DELIVERED: 1,
    _Q.UNDELIVERED: 2,
    _Q.EXPIRED: 3,
    _Q.FAILED: 4,
    _Q.STOPLISTED: 5,
}
# The placeholders OVHcloud's API puts in empty phonebook fields.
EMPTY_NUMBER = "0033"


class OvhSignature(APIKeyHeader):
    """The X-Ovh-* headers; documented as the application key header in the schema."""

    param_name = "X-Ovh-Application"

    def __call__(self, request):
        translation.activate("en")
        return ovh.authenticate(request)

    def authenticate(self, request, key):  # pragma: no cover - __call__ does the work
        return ovh.authenticate(request)


api = NinjaAPI(
    title="smspanel — OVHcloud-compatible SMS API",
    version="1.0",
    description=(
        "The /sms routes of OVHcloud's API, served by smspanel. Sign requests as OVHcloud "
        "does (X-Ovh-Application, X-Ovh-Consumer, X-Ovh-Timestamp, X-Ovh-Signature); "
        "python-ovh works with its endpoint set to this server's /1.0."
    ),
    auth=OvhSignature(),
    urls_namespace="ovhapi",
)


def _error(status, message, code=""):
    raise ovh.OvhError(status, message, code)


@api.exception_handler(ovh.OvhError)
def _ovh_error(request, exc):
    return ovh.error_response(exc.status, exc.message, exc.code, exc.headers)


@api.exception_handler(ValidationError)
def _invalid(request, exc):
    details = []
    for error in exc.errors:
        where = ".".join(str(p) for p in error.get("loc", ())[1:] if p != "payload")
        details.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
    return ovh.error_response(
        400, "Invalid parameters: " + "; ".join(details), "INVALID_PARAMETERS"
    )


@api.exception_handler(Http404)
def _not_found(request, exc):
    return ovh.error_response(404, "This object does not exist", "NOT_FOUND")


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return ovh.error_response(401, "You must login first", "NOT_AUTHENTICATED")


@api.exception_handler(HttpError)
def _http_error(request, exc):
    return ovh.error_response(exc.status_code, str(exc))


def _done() -> HttpResponse:
    """A call that returns nothing answers JSON null, as OVHcloud does (python-ovh decodes
    every 200 body)."""
    return HttpResponse("null", content_type="application/json")


def _form_error(form) -> str:
    return "; ".join(
        f"{field}: {' '.join(errs)}" if field != "__all__" else " ".join(errs)
        for field, errs in form.errors.items()
    )


# Identifiers given as text (bookKey, receiversSlotId): ASCII digits that fit a bigint.
# (str.isdigit() also accepts "²", which int() refuses, and int() refuses 5,000 digits.)
_ID = re.compile(r"[0-9]{1,18}")
# Integer filters compared with a bigint column.
MAX_ID = 2**63 - 1


def _id(text: str) -> int | None:
    return int(text) if _ID.fullmatch(text) else None


def _column(request, service_name: str, model, field: str, order: str = "") -> list:
    """One field of the account's rows of `model`: the id lists OVHcloud's GET routes return."""
    rows = model.objects.filter(account=_account(request, service_name))
    return list(rows.order_by(order or field).values_list(field, flat=True))


def _account(request, service_name: str) -> SmsAccount:
    """The key's account, read with the key at the start of this request (money moves through
    conditional updates, never through this object); any other service name is unknown."""
    account = request.auth.application.account
    if account.name != service_name:
        raise Http404
    return account


def _user(request):
    ck: ConsumerKey = request.auth
    return ck.validated_by or ck.application.created_by


# --- Authentication ---------------------------------------------------------------------------


@api.get("/auth/time", auth=None, response=int, tags=["auth"])
def auth_time(request):
    """The server's Unix time, which signatures are checked against."""
    return int(timezone.now().timestamp())


@api.post("/auth/credential", auth=None, response=responses(schemas.CredentialOut), tags=["auth"])
def auth_credential(request, payload: schemas.CredentialIn):
    """Ask for a consumer key; a member of the account validates it at validationUrl."""
    app = ovh.application_from(request)
    ovh.throttle_credential_requests(app)
    redirection = payload.redirection or ""
    if redirection and not redirection.startswith(("http://", "https://")):
        _error(400, "redirection must be an http(s) URL", "INVALID_PARAMETERS")
    ck, key = services.credential_request(
        application=app,
        access_rules=[rule.dict() for rule in payload.accessRules],
        redirection=redirection,
    )
    url = request.build_absolute_uri(reverse("api:validate", args=[ck.validation_token]))
    return {"validationUrl": url, "consumerKey": key, "state": ck.status}


@api.get("/auth/currentCredential", response=responses(schemas.CurrentCredential), tags=["auth"])
def current_credential(request):
    ck: ConsumerKey = request.auth
    return {
        "credentialId": ck.pk,
        "applicationId": ck.application_id,
        "status": ck.status,
        "rules": ck.access_rules,
        "creation": ck.created_at,
        "expiration": ck.expires_at,
        "lastUse": ck.last_used_at,
    }


# --- Accounts ---------------------------------------------------------------------------------


@api.get("/sms", response=responses(list[str]), tags=["sms"])
def sms_list(request):
    """The service names this key may use."""
    return [request.auth.application.account.name]


@api.post("/sms/estimate", response=responses(schemas.EstimateOut), tags=["sms"])
def sms_estimate(request, payload: schemas.EstimateIn):
    sms = count(payload.message, stop_clause=not payload.noStopClause)
    return {
        "characters": sms.units,
        "charactersClass": "7bits" if sms.encoding == "GSM-7" else "unicode",
        "maxCharactersPerPart": sms.per_part,
        "parts": sms.segments,
    }


def _account_out(account: SmsAccount) -> dict:
    callbacks = CallbackSettings.objects.filter(account=account).first()
    return {
        "name": account.name,
        "description": account.description,
        "status": account.status,
        "creditsLeft": float(account.credits),
        "creditThresholdForAutomaticRecredit": float(account.low_credit_threshold or 0),
        "callBack": (callbacks.delivery_url or None) if callbacks else None,
        "stopCallBack": (callbacks.stop_url or None) if callbacks else None,
        "smsResponse": {"responseType": "cgi" if callbacks and callbacks.stop_url else "none"},
        "templates": {},
    }


@api.get("/sms/{serviceName}", response=responses(schemas.AccountOut), tags=["sms"])
def sms_account(request, serviceName: str):
    return _account_out(_account(request, serviceName))


@api.put("/sms/{serviceName}", response=responses(None), tags=["sms"])
def sms_account_update(request, serviceName: str, payload: schemas.AccountUpdate):
    """Change the description and the callback URLs (the panel's settings forms decide)."""
    account = _account(request, serviceName)
    if payload.description is not None:
        data = {
            "description": payload.description,
            "default_region": account.default_region,
            "low_credit_threshold": account.low_credit_threshold or "",
            "alert_email": account.alert_email,
        }
        form = AccountSettingsForm(data=data, instance=account)
        if not form.is_valid():
            _error(400, _form_error(form), "INVALID_PARAMETERS")
        form.save()
    if payload.callBack is not None or payload.stopCallBack is not None:
        current = CallbackSettings.objects.filter(account=account).first()
        data = {
            "delivery_url": payload.callBack
            if payload.callBack is not None
            else (current.delivery_url if current else ""),
            "stop_url": payload.stopCallBack
            if payload.stopCallBack is not None
            else (current.stop_url if current else ""),
        }
        form = CallbackSettingsForm(data=data, instance=current)
        if not form.is_valid():
            _error(400, _form_error(form), "INVALID_PARAMETERS")
        row = form.save(commit=False)
        row.account = account
        if current is None:
            row.secret = webhooks.new_secret()
        row.save()
    return _done()


@api.post("/sms/{serviceName}/transferCredits", response=responses(None), tags=["sms"])
def transfer_credits(request, serviceName: str, payload: schemas.TransferIn):
    account = _account(request, serviceName)
    target = SmsAccount.objects.filter(name=payload.smsAccountTarget).first()
    if target is None or target.pk == account.pk:
        _error(400, "Invalid smsAccountTarget", "INVALID_PARAMETERS")
    try:
        credits_transfer(source=account, target=target, amount=payload.credits, by=_user(request))
    except PermissionError:
        _error(403, "You must own this account and be a member of the target", "FORBIDDEN")
    except InsufficientCredits:
        _error(400, "Not enough credits", "NOT_ENOUGH_CREDITS")
    except ValueError as exc:
        _error(400, str(exc), "INVALID_PARAMETERS")
    return _done()


# --- Sending ----------------------------------------------------------------------------------


def _receivers(account, payload: schemas.JobIn) -> rcpt.ParsedRecipients:
    """The send form's recipients (collect_recipients): typed numbers, then a list's."""
    if payload.receiversDocumentUrl:
        _error(400, "receiversDocumentUrl is not supported: use receivers or receiversSlotId")
    if not payload.receivers and not payload.receiversSlotId:
        _error(400, "Give receivers or receiversSlotId", "INVALID_PARAMETERS")
    lists = []
    if payload.receiversSlotId:
        slot = payload.receiversSlotId
        slot_id = _id(slot)
        rlist = (
            RecipientList.objects.filter(account=account, slot=slot_id).first()
            if slot_id is not None
            else None
        )
        if rlist is None:
            _error(400, f"Invalid receiversSlotId: {slot}", "INVALID_PARAMETERS")
        lists.append(rlist)
    return collect_recipients(
        account=account, typed="\n".join(payload.receivers or []), lists=lists
    )


@api.post("/sms/{serviceName}/jobs", response=responses(schemas.SendingReport), tags=["jobs"])
def jobs_create(request, serviceName: str, payload: schemas.JobIn):
    """Send (or plan, with differedPeriod in minutes) one message to its receivers."""
    account = _account(request, serviceName)
    parsed = _receivers(account, payload)
    sender = None
    if payload.sender and not payload.senderForResponse:
        # The send form's rule (SendForm.clean_sender): an enabled sender of this account.
        sender = Sender.objects.filter(account=account, sender=payload.sender).enabled().first()
        if sender is None:
            _error(400, f"Invalid sender: {payload.sender}", "INVALID_SENDER")
    invalid = [raw for raw, _reason in parsed.invalid]
    if not parsed.valid:
        return {"ids": [], "invalidReceivers": invalid, "validReceivers": [],
                "totalCreditsRemoved": 0}  # fmt: skip
    now = timezone.now()
    planned = now + timedelta(minutes=payload.differedPeriod) if payload.differedPeriod else None
    try:
        job = sending.job_submit(
            account=account,
            user=_user(request),
            message=payload.message,
            parsed=parsed,
            sender=sender,
            stop_clause=not payload.noStopClause,
            sms_class=payload.sms_class,
            tag=payload.tag or "",
            scheduled_at=planned,
            now=now,
            message_rows_now=True,
        )
    except sending.SendError as exc:
        _error(400, str(exc), "SEND_REFUSED")
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
    }


def _pending(account):
    """Messages not handed to the operator yet: OVHcloud's pending jobs."""
    return OutgoingMessage.objects.filter(
        account=account,
        status=_Q.QUEUED,
        job__status__in=[SmsJob.Status.SCHEDULED, SmsJob.Status.QUEUED, SmsJob.Status.SENDING],
    )


def _message_out(message: OutgoingMessage) -> dict:
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


@api.get("/sms/{serviceName}/jobs", response=responses(list[int]), tags=["jobs"])
def jobs_list(request, serviceName: str):
    account = _account(request, serviceName)
    return list(_pending(account).order_by("id").values_list("id", flat=True))


@api.get("/sms/{serviceName}/jobs/{id}", response=responses(schemas.JobOut), tags=["jobs"])
def jobs_get(request, serviceName: str, id: int):
    account = _account(request, serviceName)
    return _message_out(get_object_or_404(_pending(account).select_related("job"), pk=id))


@api.delete("/sms/{serviceName}/jobs/{id}", response=responses(None), tags=["jobs"])
def jobs_delete(request, serviceName: str, id: int):
    """Cancel a planned message; its credits come back."""
    account = _account(request, serviceName)
    message = get_object_or_404(_pending(account), pk=id)
    if not sending.message_cancel(message=message):
        _error(400, "This SMS is already being sent: it cannot be cancelled", "TOO_LATE")
    return _done()


_FROM = "creationDatetime.from"
_TO = "creationDatetime.to"


def _instant(value: datetime, name: str) -> datetime:
    """A filter date as UTC; one the database cannot hold (0001-01-01 in Paris time is in
    year 0 in UTC) is a bad parameter, not a server error."""
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        _error(400, f"Invalid parameters: {name}: date out of range", "INVALID_PARAMETERS")


def _dates(qs, field: str, start: datetime | None, end: datetime | None):
    if start:
        qs = qs.filter(**{f"{field}__gte": _instant(start, _FROM)})
    if end:
        qs = qs.filter(**{f"{field}__lte": _instant(end, _TO)})
    return qs


def _number(value: str, account) -> str:
    outcome = rcpt.normalise(value, account.default_region, allow_landline=True)
    return value if isinstance(outcome, str) else outcome.number


@api.get("/sms/{serviceName}/outgoing", response=responses(list[int]), tags=["outgoing"])
def outgoing_list(
    request,
    serviceName: str,
    date_from: Annotated[datetime | None, Query(alias=_FROM)] = None,
    date_to: Annotated[datetime | None, Query(alias=_TO)] = None,
    receiver: str | None = None,
    sender: str | None = None,
    tag: str | None = None,
    deliveryReceipt: int | None = None,
    ptt: int | None = None,
    differedDelivery: int | None = None,
    batchID: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
):
    """Ids of sent messages, newest first (messages still pending are under /jobs)."""
    account = _account(request, serviceName)
    qs = OutgoingMessage.objects.filter(account=account).exclude(status=_Q.QUEUED)
    qs = qs.exclude(error_code="CANCELLED")
    qs = _dates(qs, "created_at", date_from, date_to)
    if receiver:
        qs = qs.filter(receiver=_number(receiver, account))
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


@api.get("/sms/{serviceName}/outgoing/{id}", response=responses(schemas.OutgoingOut),
         tags=["outgoing"])  # fmt: skip
def outgoing_get(request, serviceName: str, id: int):
    account = _account(request, serviceName)
    qs = OutgoingMessage.objects.filter(account=account).select_related("job")
    return _message_out(get_object_or_404(qs, pk=id))


# --- Replies and STOP list ---------------------------------------------------------------------


@api.get("/sms/{serviceName}/incoming", response=responses(list[int]), tags=["incoming"])
def incoming_list(
    request,
    serviceName: str,
    date_from: Annotated[datetime | None, Query(alias=_FROM)] = None,
    date_to: Annotated[datetime | None, Query(alias=_TO)] = None,
    sender: str | None = None,
    tag: str | None = None,
):
    account = _account(request, serviceName)
    qs = _dates(IncomingMessage.objects.filter(account=account), "received_at", date_from, date_to)
    if sender:
        qs = qs.filter(sender=_number(sender, account))
    if tag is not None:
        qs = qs.filter(tag=tag)
    return list(qs.order_by("-id").values_list("id", flat=True))


def _incoming(request, service_name: str, pk: int) -> IncomingMessage:
    account = _account(request, service_name)
    return get_object_or_404(IncomingMessage, account=account, pk=pk)


@api.get("/sms/{serviceName}/incoming/{id}", response=responses(schemas.IncomingOut),
         tags=["incoming"])  # fmt: skip
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


@api.delete("/sms/{serviceName}/incoming/{id}", response=responses(None), tags=["incoming"])
def incoming_delete(request, serviceName: str, id: int):
    _incoming(request, serviceName, id).delete()
    return _done()


@api.get("/sms/{serviceName}/blacklists", response=responses(list[str]), tags=["blacklists"])
def blacklists_list(request, serviceName: str):
    return _column(request, serviceName, StopListEntry, "number", order="-id")


def _stop_entry(request, service_name: str, number: str) -> StopListEntry:
    account = _account(request, service_name)
    return get_object_or_404(StopListEntry, account=account, number=_number(number, account))


@api.get("/sms/{serviceName}/blacklists/{number}", response=responses(schemas.BlacklistOut),
         tags=["blacklists"])  # fmt: skip
def blacklists_get(request, serviceName: str, number: str):
    entry = _stop_entry(request, serviceName, number)
    return {"number": entry.number, "dateCreation": entry.created_at}


@api.delete("/sms/{serviceName}/blacklists/{number}", response=responses(None), tags=["blacklists"])
def blacklists_delete(request, serviceName: str, number: str):
    _stop_entry(request, serviceName, number).delete()
    return _done()


# --- Senders ----------------------------------------------------------------------------------


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
    account = _account(request, service_name)
    return get_object_or_404(Sender, account=account, sender__iexact=name)


@api.get("/sms/{serviceName}/senders", response=responses(list[str]), tags=["senders"])
def senders_list(request, serviceName: str):
    return _column(request, serviceName, Sender, "sender")


def _available(account) -> dict[str, tuple[str, str]]:
    """Senders the account may enable at once: name -> (OVH referer, where it comes from)."""
    found = {name: ("nichandle", origin) for name, origin in profile_candidates(account).items()}
    for name, origin in domain_candidates(account).items():
        found.setdefault(name, ("domain", origin))
    return found


@api.get("/sms/{serviceName}/sendersAvailableForValidation",
         response=responses(list[schemas.SenderAvailable]), tags=["senders"])  # fmt: skip
def senders_available(request, serviceName: str, referer: str | None = None):
    """Names taken from the holders' profiles (nichandle) or their domains (domain)."""
    account = _account(request, serviceName)
    return [
        {"sender": name, "referer": kind}
        for name, (kind, _origin) in _available(account).items()
        if referer in (None, kind)
    ]


@api.post("/sms/{serviceName}/senders", response=responses(schemas.SenderOut), tags=["senders"])
def senders_create(request, serviceName: str, payload: schemas.SenderIn):
    """Request a sender name; staff validate it (status waitingValidation until then). With
    reason "sendersAvailableForValidation", a name from that list is enabled at once."""
    account = _account(request, serviceName)
    if payload.reason == "sendersAvailableForValidation":
        available = _available(account)
        if payload.sender not in available:
            _error(400, f"{payload.sender} is not available for validation", "INVALID_SENDER")
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
            _error(400, str(exc), "INVALID_PARAMETERS")
        return _sender_out(sender)
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
        _error(400, _form_error(form), "INVALID_PARAMETERS")
    try:
        sender = sender_services.sender_request_create(
            account=account,
            sender=form.cleaned_data["sender"],
            reason=form.cleaned_data["reason"],
            description=form.cleaned_data["description"],
        )
    except sender_services.SenderError as exc:
        _error(400, str(exc), "INVALID_PARAMETERS")
    return _sender_out(sender)


@api.get("/sms/{serviceName}/senders/{sender}", response=responses(schemas.SenderOut),
         tags=["senders"])  # fmt: skip
def senders_get(request, serviceName: str, sender: str):
    return _sender_out(_sender(request, serviceName, sender))


@api.put("/sms/{serviceName}/senders/{sender}", response=responses(None), tags=["senders"])
def senders_update(request, serviceName: str, sender: str, payload: schemas.SenderUpdate):
    obj = _sender(request, serviceName, sender)
    description = obj.description if payload.description is None else payload.description
    form = SenderEditForm(data={"description": description}, instance=obj)
    if not form.is_valid():
        _error(400, _form_error(form), "INVALID_PARAMETERS")
    form.save()
    if payload.status is not None:
        try:
            sender_services.sender_set_enabled(obj, enabled=payload.status == "enable")
        except sender_services.SenderError as exc:
            _error(400, str(exc), "INVALID_PARAMETERS")
    return _done()


@api.delete("/sms/{serviceName}/senders/{sender}", response=responses(None), tags=["senders"])
def senders_delete(request, serviceName: str, sender: str):
    try:
        sender_services.sender_delete(_sender(request, serviceName, sender))
    except sender_services.SenderError as exc:
        _error(400, str(exc), "SENDER_IN_USE")
    return _done()


# --- Phonebooks -------------------------------------------------------------------------------


def _book(request, service_name: str, book_key: str) -> AddressBook:
    account = _account(request, service_name)
    pk = _id(book_key)
    if pk is None:
        raise Http404
    return get_object_or_404(AddressBook, account=account, pk=pk)


def _book_form(account, name: str, instance=None) -> str:
    form = BookForm(data={"name": name}, account=account, instance=instance)
    if not form.is_valid():
        _error(400, _form_error(form), "INVALID_PARAMETERS")
    return form.cleaned_data["name"]


@api.get("/sms/{serviceName}/phonebooks", response=responses(list[str]), tags=["phonebooks"])
def phonebooks_list(request, serviceName: str):
    account = _account(request, serviceName)
    return [str(pk) for pk in AddressBook.objects.filter(account=account).order_by("pk")
            .values_list("pk", flat=True)]  # fmt: skip


@api.post("/sms/{serviceName}/phonebooks", response=responses(str), tags=["phonebooks"])
def phonebooks_create(request, serviceName: str, payload: schemas.PhonebookIn):
    """Create an address book; returns its bookKey."""
    account = _account(request, serviceName)
    book = books.book_create(account=account, name=_book_form(account, payload.name))
    return str(book.pk)


@api.get("/sms/{serviceName}/phonebooks/{bookKey}", response=responses(schemas.PhonebookOut),
         tags=["phonebooks"])  # fmt: skip
def phonebooks_get(request, serviceName: str, bookKey: str):
    book = _book(request, serviceName, bookKey)
    return {"bookKey": str(book.pk), "name": book.name, "phoneKey": str(book.pk)}


@api.put("/sms/{serviceName}/phonebooks/{bookKey}", response=responses(None), tags=["phonebooks"])
def phonebooks_update(request, serviceName: str, bookKey: str, payload: schemas.PhonebookIn):
    book = _book(request, serviceName, bookKey)
    books.book_rename(book, _book_form(book.account, payload.name, instance=book))
    return _done()


@api.delete("/sms/{serviceName}/phonebooks/{bookKey}", response=responses(None),
            tags=["phonebooks"])  # fmt: skip
def phonebooks_delete(request, serviceName: str, bookKey: str):
    books.book_delete(_book(request, serviceName, bookKey))
    return _done()


_CONTACT_FIELDS = {
    "homeMobile": "home_mobile",
    "homePhone": "home_phone",
    "workMobile": "work_mobile",
    "workPhone": "work_phone",
}


def _contact_out(contact: Contact) -> dict:
    out = {"id": contact.pk, "surname": contact.surname, "name": contact.name,
           "group": contact.group}  # fmt: skip
    for api_name, field in _CONTACT_FIELDS.items():
        out[api_name] = getattr(contact, field) or None
    return out


def _contact_save(book: AddressBook, payload: schemas.ContactIn, instance=None) -> Contact:
    data = {"surname": payload.surname, "name": payload.name, "group": payload.group}
    for api_name, field in _CONTACT_FIELDS.items():
        value = (getattr(payload, api_name) or "").strip()
        data[field] = "" if value == EMPTY_NUMBER else value
    form = ContactForm(data=data, book=book, instance=instance)
    if not form.is_valid():
        _error(400, _form_error(form), "INVALID_PARAMETERS")
    return books.contact_save(form.save(commit=False))


_CONTACTS = "/sms/{serviceName}/phonebooks/{bookKey}/phonebookContact"


@api.get(_CONTACTS, response=responses(list[int]), tags=["phonebooks"])
def contacts_list(request, serviceName: str, bookKey: str):
    book = _book(request, serviceName, bookKey)
    return list(book.contacts.order_by("pk").values_list("pk", flat=True))


@api.post(_CONTACTS, response=responses(int), tags=["phonebooks"])
def contacts_create(request, serviceName: str, bookKey: str, payload: schemas.ContactIn):
    """Add a contact; returns its id."""
    return _contact_save(_book(request, serviceName, bookKey), payload).pk


def _contact(request, service_name, book_key, pk) -> Contact:
    return get_object_or_404(Contact, book=_book(request, service_name, book_key), pk=pk)


@api.get(_CONTACTS + "/{id}", response=responses(schemas.ContactOut), tags=["phonebooks"])
def contacts_get(request, serviceName: str, bookKey: str, id: int):
    return _contact_out(_contact(request, serviceName, bookKey, id))


@api.put(_CONTACTS + "/{id}", response=responses(None), tags=["phonebooks"])
def contacts_update(request, serviceName: str, bookKey: str, id: int, payload: schemas.ContactIn):
    contact = _contact(request, serviceName, bookKey, id)
    _contact_save(contact.book, payload, instance=contact)
    return _done()


@api.delete(_CONTACTS + "/{id}", response=responses(None), tags=["phonebooks"])
def contacts_delete(request, serviceName: str, bookKey: str, id: int):
    contact = _contact(request, serviceName, bookKey, id)
    books.contacts_delete(contact.book, [contact.pk])
    return _done()


# --- Recipient lists --------------------------------------------------------------------------


def _rlist(request, service_name: str, slot: int) -> RecipientList:
    account = _account(request, service_name)
    return get_object_or_404(RecipientList, account=account, slot=slot)


@api.get("/sms/{serviceName}/receivers", response=responses(list[int]), tags=["receivers"])
def receivers_list(request, serviceName: str):
    return _column(request, serviceName, RecipientList, "slot")


@api.get("/sms/{serviceName}/receivers/{slotId}", response=responses(schemas.ReceiverOut),
         tags=["receivers"])  # fmt: skip
def receivers_get(request, serviceName: str, slotId: int):
    return _receiver_out(_rlist(request, serviceName, slotId))


def _receiver_out(rlist: RecipientList) -> dict:
    return {"slotId": rlist.slot, "description": rlist.description, "records": rlist.records,
            "datetime": rlist.created_at}  # fmt: skip


@api.get("/sms/{serviceName}/receivers/{slotId}/csv", response=responses(str), tags=["receivers"])
def receivers_csv(request, serviceName: str, slotId: int):
    """The list as CSV text: a number column, one number per line."""
    return "".join(recipient_lists.list_rows(_rlist(request, serviceName, slotId)))


@api.post("/sms/{serviceName}/receivers/{slotId}/clean", response=responses(schemas.CleanOut),
          tags=["receivers"])  # fmt: skip
def receivers_clean(request, serviceName: str, slotId: int, payload: schemas.CleanIn):
    """Free cleaning (duplicates and invalid numbers); the paid HLR check is not offered."""
    rlist = _rlist(request, serviceName, slotId)
    if not payload.freemium:
        _error(400, "Only the free cleaning (freemium: true) is available", "INVALID_PARAMETERS")
    if not payload.priceOnly:
        recipient_lists.list_clean(rlist)
    return {"taskId": 0, "totalCreditsRemoved": 0}


@api.delete("/sms/{serviceName}/receivers/{slotId}", response=responses(None), tags=["receivers"])
def receivers_delete(request, serviceName: str, slotId: int):
    recipient_lists.list_delete(_rlist(request, serviceName, slotId))
    return _done()


# --- Documents (OVH /me/document) -------------------------------------------------------------

DOCUMENT_LIFETIME = timedelta(days=7)
FETCH_TIMEOUT = 10


def _document_out(request, doc: ApiDocument) -> dict:
    def url(name):
        return request.build_absolute_uri(reverse(f"ovhapi:{name}", args=[doc.token]))

    return {
        "id": str(doc.pk),
        "name": doc.name,
        "size": doc.size,
        "putUrl": url("document_upload"),
        "getUrl": url("document_download"),
        "creationDate": doc.created_at,
        "expirationDate": doc.expires_at,
    }


def _documents(request):
    return ApiDocument.objects.filter(
        application=request.auth.application, expires_at__gt=timezone.now()
    )


def _document(request, document_id: str) -> ApiDocument:
    pk = _id(document_id)
    if pk is None:
        raise Http404
    return get_object_or_404(_documents(request), pk=pk)


@api.post("/me/document", response=responses(schemas.DocumentOut), tags=["documents"])
def document_create(request, payload: schemas.DocumentIn):
    """Declare a file; then PUT its content to putUrl (no signature: the URL is the secret)."""
    doc = ApiDocument.objects.create(
        application=request.auth.application,
        name=payload.name,
        token=random_key(40),
        expires_at=timezone.now() + DOCUMENT_LIFETIME,
    )
    return _document_out(request, doc)


@api.get("/me/document", response=responses(list[str]), tags=["documents"])
def document_list(request):
    return [str(pk) for pk in _documents(request).order_by("pk").values_list("pk", flat=True)]


@api.get("/me/document/{id}", response=responses(schemas.DocumentOut), tags=["documents"])
def document_get(request, id: str):
    return _document_out(request, _document(request, id))


@api.delete("/me/document/{id}", response=responses(None), tags=["documents"])
def document_delete(request, id: str):
    doc = _document(request, id)
    if doc.file:
        doc.file.delete(save=False)
    doc.delete()
    return _done()


def _by_token(token: str) -> ApiDocument:
    return get_object_or_404(ApiDocument, token=token, expires_at__gt=timezone.now())


@api.put("/me/document/upload/{token}", auth=None, url_name="document_upload",
         include_in_schema=False)  # fmt: skip
def document_upload(request, token: str):
    doc = _by_token(token)
    if doc.file:
        _error(409, "This document already has its content", "ALREADY_UPLOADED")
    limit = import_max_bytes()
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
        _error(400, f"A document cannot exceed {limit} bytes", "TOO_LARGE")
    with tempfile.TemporaryFile() as spool:
        size = 0
        while chunk := request.read(1 << 20):
            size += len(chunk)
            if size > limit:
                _error(400, f"A document cannot exceed {limit} bytes", "TOO_LARGE")
            spool.write(chunk)
        spool.seek(0)
        doc.file.save(f"{doc.pk}", File(spool), save=False)
    doc.size = size
    doc.save(update_fields=["file", "size"])
    return _done()


@api.get("/me/document/download/{token}", auth=None, url_name="document_download",
         include_in_schema=False)  # fmt: skip
def document_download(request, token: str):
    doc = _by_token(token)
    if not doc.file:
        raise Http404
    return FileResponse(doc.file.open("rb"), as_attachment=True, filename=doc.name)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect could lead past the address check


def _fetched(url: str) -> File:
    """csvUrl: fetched once, from a public address only, within the contact-file size limit."""
    try:
        webhooks.check_url(url)
    except webhooks.UnsafeURL as error:
        _error(400, f"csvUrl cannot be used: {error}", "INVALID_PARAMETERS")
    limit = import_max_bytes()
    opener = urllib.request.build_opener(_NoRedirect)
    spool = tempfile.TemporaryFile()
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "smspanel"})
        with opener.open(request, timeout=FETCH_TIMEOUT) as answer:
            size = 0
            while chunk := answer.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    _error(400, f"csvUrl: the file exceeds {limit} bytes", "TOO_LARGE")
                spool.write(chunk)
    except (urllib.error.URLError, OSError, ValueError) as error:
        spool.close()
        _error(400, f"csvUrl could not be read: {error}", "INVALID_PARAMETERS")
    spool.seek(0)
    # The content decides (ContactFile detects it); a URL rarely ends with a file name.
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    if not name.lower().endswith((".csv", ".txt")):
        name = "receivers.csv"
    upload = File(spool, name=name)
    upload.size = size
    return upload


def _source_file(request, document_id: str | None, csv_url: str | None) -> File:
    if document_id:
        doc = _document(request, document_id)
        if not doc.file:
            _error(400, "This document has no content: PUT it to its putUrl first")
        upload = File(doc.file.open("rb"), name=doc.name)
        upload.size = doc.size
        return upload
    if csv_url:
        return _fetched(csv_url)
    _error(400, "Give documentId or csvUrl", "INVALID_PARAMETERS")


@api.post("/sms/{serviceName}/receivers", response=responses(schemas.ReceiverOut),
          tags=["receivers"])  # fmt: skip
def receivers_create(request, serviceName: str, payload: schemas.ReceiverIn):
    """A recipient list in slot slotId, from a CSV/TXT document or csvUrl (read once)."""
    account = _account(request, serviceName)
    if payload.autoUpdate:
        _error(400, "autoUpdate is not supported: the file is read once", "INVALID_PARAMETERS")
    upload = _source_file(request, payload.documentId, payload.csvUrl)
    with upload:
        form = RecipientListForm(data={"description": payload.description},
                                 files={"file": upload})  # fmt: skip
        if not form.is_valid():
            _error(400, _form_error(form), "INVALID_PARAMETERS")
        try:
            rlist = recipient_lists.list_create(
                account=account,
                description=form.cleaned_data["description"],
                binary=form.cleaned_data["file"],
                slot=payload.slotId,
            )
        except recipient_lists.ListError as exc:
            _error(400, str(exc), "INVALID_PARAMETERS")
        except parsers.ImportFileError as exc:
            _error(400, books.file_error_message(exc.code, exc.line), "INVALID_PARAMETERS")
    return _receiver_out(rlist)


@api.post("/sms/{serviceName}/phonebooks/{bookKey}/import", response=responses(schemas.TaskOut),
          tags=["phonebooks"])  # fmt: skip
def phonebooks_import(request, serviceName: str, bookKey: str, payload: schemas.ImportIn):
    """Import a CSV, TXT or Excel document into the book, in the background."""
    book = _book(request, serviceName, bookKey)
    upload = _source_file(request, payload.documentId, None)
    with upload:
        form = ImportForm(data={}, files={"file": upload})
        if not form.is_valid():
            _error(400, _form_error(form), "INVALID_PARAMETERS")
        try:
            imp = books.import_start(book=book, upload=form.cleaned_data["file"])
        except books.BookError as exc:
            _error(409, str(exc), "IMPORT_RUNNING")
    return {"taskId": imp.pk, "function": "importPhonebook", "status": "todo"}
