"""/sms, /sms/estimate and /sms/{serviceName}: the account, its settings and credit transfers."""

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router

from accounts.forms import AccountSettingsForm
from accounts.models import Membership, SmsAccount
from accounts.selectors import quota_totals
from accounts.services import InsufficientCredits, credits_transfer
from messaging import webhooks
from messaging.encoding import count
from messaging.forms import WebhookSettingsForm
from messaging.models import WebhookSettings

from .. import schemas
from ..errors import ApiError
from ..models import ApiTask
from ..schemas import responses
from .base import DATE_FROM, DATE_TO, account_for, done, form_invalid, user_for
from .history import history_document
from .incoming import replies
from .outgoing import sent

router = Router(tags=["sms"])


@router.get("/sms", response=responses(list[str]))
def sms_list(request):
    """The service names this key may use."""
    return [request.auth.application.account.name]


# Before /sms/{serviceName}, which would otherwise take "estimate" for a service name.
@router.post("/sms/estimate", response=responses(schemas.EstimateOut))
def sms_estimate(request, payload: schemas.EstimateIn):
    sms = count(payload.message, stop_clause=not payload.noStopClause)
    return {
        "characters": sms.units,
        "charactersClass": "7bits" if sms.encoding == "GSM-7" else "unicode",
        "maxCharactersPerPart": sms.per_part,
        "parts": sms.segments,
    }


# Replies are read under /incoming (STOPs also go to stopCallBack): no automatic answer, no
# forwarding of replies to a CGI; the alert e-mail has smspanel's own text.
SMS_RESPONSE = {"responseType": "none", "cgiUrl": None, "text": None,
                "trackingDefaultSmsSender": None, "trackingOptions": None}  # fmt: skip
TEMPLATES = {"customizedEmailMode": False, "customizedSmsMode": False, "emailBody": None,
             "emailFrom": None, "emailSubject": None, "smsBody": None}  # fmt: skip


RENEW = {"automatic": True, "deleteAtExpiration": False, "forced": False,
         "manualPayment": False, "period": 12}  # fmt: skip


def _account_out(account: SmsAccount) -> dict:
    callbacks = WebhookSettings.objects.filter(account=account).first()
    return {
        "name": account.name,
        "description": account.description,
        "status": account.status,
        "creditsLeft": float(account.credits),
        # No payments in smspanel: the threshold is the low-credit alert's.
        "creditThresholdForAutomaticRecredit": float(account.low_credit_threshold or 0),
        "automaticRecreditAmount": None,
        "callBack": (callbacks.delivery_url or None) if callbacks else None,
        "stopCallBack": (callbacks.stop_url or None) if callbacks else None,
        "smpp": False,
        "smsResponse": SMS_RESPONSE,
        "templates": TEMPLATES,
        **quota_totals(account),
    }


def _refuse_unsupported(payload: schemas.AccountUpdate) -> None:
    """Settings smspanel has no behaviour for are refused, not stored and ignored."""
    if payload.automaticRecreditAmount is not None:
        raise ApiError.invalid(
            "automaticRecreditAmount: smspanel takes no payments, so it cannot recredit "
            "automatically (staff credit accounts)"
        )
    if payload.smsResponse is not None and payload.smsResponse.dict() != SMS_RESPONSE:
        raise ApiError.invalid(
            "smsResponse: only responseType none is available: replies are read under "
            "/incoming and STOPs are posted to stopCallBack"
        )
    if payload.templates is not None and payload.templates.dict() != TEMPLATES:
        raise ApiError.invalid("templates: the low-credit alert has smspanel's own text")


@router.get("/sms/{serviceName}", response=responses(schemas.AccountOut))
def sms_account(request, serviceName: str):
    return _account_out(account_for(request, serviceName))


@router.put("/sms/{serviceName}", response=responses(None))
def sms_account_update(request, serviceName: str, payload: schemas.AccountUpdate):
    """Change the description and the callback URLs (the panel's settings forms decide)."""
    account = account_for(request, serviceName)
    _refuse_unsupported(payload)
    threshold = payload.creditThresholdForAutomaticRecredit
    if payload.description is not None or threshold is not None:
        if threshold is not None:
            threshold = f"{threshold:.2f}" if threshold else ""  # 0: no alert
        data = {
            "description": account.description
            if payload.description is None
            else payload.description,
            "default_region": account.default_region,
            "low_credit_threshold": account.low_credit_threshold or ""
            if threshold is None
            else threshold,
            "alert_email": account.alert_email,
        }
        form = AccountSettingsForm(data=data, instance=account)
        if not form.is_valid():
            raise form_invalid(form)
        form.save()
    if payload.callBack is not None or payload.stopCallBack is not None:
        current = WebhookSettings.objects.filter(account=account).first()
        data = {
            "delivery_url": payload.callBack
            if payload.callBack is not None
            else (current.delivery_url if current else ""),
            "stop_url": payload.stopCallBack
            if payload.stopCallBack is not None
            else (current.stop_url if current else ""),
        }
        form = WebhookSettingsForm(data=data, instance=current)
        if not form.is_valid():
            raise form_invalid(form)
        # The secret made on a first save is not shown here: the panel can regenerate it.
        webhooks.settings_save(account=account, **form.cleaned_data)
    return done()


@router.post("/sms/{serviceName}/transferCredits", response=responses(None))
def transfer_credits(request, serviceName: str, payload: schemas.TransferIn):
    account = account_for(request, serviceName)
    target = SmsAccount.objects.filter(name=payload.smsAccountTarget).first()
    if target is None or target.pk == account.pk:
        raise ApiError.invalid("Invalid smsAccountTarget")
    try:
        credits_transfer(
            source=account, target=target, amount=payload.credits, by=user_for(request)
        )
    except PermissionError:
        raise ApiError(
            403, "You must own this account and be a member of the target", "FORBIDDEN"
        ) from None
    except InsufficientCredits:
        raise ApiError(400, "Not enough credits", "NOT_ENOUGH_CREDITS") from None
    except ValueError as exc:
        raise ApiError.invalid(str(exc)) from None
    return done()


# --- serviceInfos: smspanel accounts are not rented: they never expire, nothing is renewed.


def _owner_handle(account: SmsAccount) -> str:
    owner = account.memberships.filter(role=Membership.Role.OWNER).select_related("user").first()
    return owner.user.handle if owner else ""


def _next_anniversary(created: date, today: date) -> date:
    """The account's renewal date as OVHcloud shows one: the next anniversary of its creation
    (renewed automatically and for free)."""
    years = today.year - created.year + 1
    try:
        return created.replace(year=created.year + years)
    except ValueError:  # 29 February
        return created.replace(year=created.year + years, day=28)


def service_infos_of(account: SmsAccount, *, domain: str, service_id: int, created: date) -> dict:
    handle = _owner_handle(account)
    return {
        "canDeleteAtExpiration": False,
        "contactAdmin": handle,
        "contactBilling": handle,
        "contactTech": handle,
        "creation": created,
        "domain": domain,
        "engagedUpTo": None,
        "expiration": _next_anniversary(created, timezone.localdate()),
        "possibleRenewPeriod": [12],
        "renew": RENEW,
        "renewalType": "automaticV2016",
        "serviceId": service_id,
        "status": "ok" if account.status == SmsAccount.Status.ENABLE else "expired",
    }


def check_renew(payload: schemas.ServiceInfosUpdate):
    """Only `renew` is writable; a service cannot be set to end at expiration."""
    renew = payload.renew
    if renew is not None and (renew.deleteAtExpiration or not renew.automatic):
        raise ApiError.invalid(
            "renew: smspanel accounts do not expire: they are kept until deleted in the panel"
        )
    return done()


@router.get("/sms/{serviceName}/serviceInfos", response=responses(schemas.ServiceInfos))
def service_infos(request, serviceName: str):
    account = account_for(request, serviceName)
    return service_infos_of(account, domain=account.name, service_id=account.pk,
                            created=timezone.localdate(account.created_at))  # fmt: skip


@router.put("/sms/{serviceName}/serviceInfos", response=responses(None))
def service_infos_update(request, serviceName: str, payload: schemas.ServiceInfosUpdate):
    account_for(request, serviceName)
    return check_renew(payload)


# --- …/task and …/document


@router.get("/sms/{serviceName}/task", response=responses(list[int]))
def tasks_list(request, serviceName: str,
               status: Literal["doing", "done", "error", "pause", "todo"] | None = None):  # fmt: skip
    tasks = ApiTask.objects.filter(account=account_for(request, serviceName))
    if status is not None:
        tasks = tasks.filter(status=status)
    return list(tasks.values_list("pk", flat=True))


@router.get("/sms/{serviceName}/task/{taskId}", response=responses(schemas.SmsTask))
def tasks_get(request, serviceName: str, taskId: int):
    task = get_object_or_404(ApiTask, account=account_for(request, serviceName), pk=taskId)
    return {"function": task.function, "status": task.status, "step": task.step,
            "taskId": task.pk}  # fmt: skip


@router.get("/sms/{serviceName}/document", response=responses(str))
def account_document(
    request,
    serviceName: str,
    wayType: Literal["incoming", "outgoing"],
    date_from: Annotated[datetime | None, Query(alias=DATE_FROM)] = None,
    date_to: Annotated[datetime | None, Query(alias=DATE_TO)] = None,
    tag: str | None = None,
    batchID: UUID | None = None,
):
    """The sent or received history as a CSV document; answers its /me/document id."""
    account = account_for(request, serviceName)
    sent_qs = sent(account)
    if batchID is not None:
        sent_qs = sent_qs.filter(job__campaign__uuid=batchID)
    return history_document(request, way=wayType, sent_qs=sent_qs, received_qs=replies(account),
                            tag=tag, date_from=date_from, date_to=date_to)  # fmt: skip
