"""/sms, /sms/estimate and /sms/{serviceName}: the account, its settings and credit transfers."""

from ninja import Router

from accounts.forms import AccountSettingsForm
from accounts.models import SmsAccount
from accounts.services import InsufficientCredits, credits_transfer
from messaging import webhooks
from messaging.encoding import count
from messaging.forms import WebhookSettingsForm
from messaging.models import WebhookSettings

from .. import schemas
from ..errors import ApiError
from ..schemas import responses
from .base import account_for, done, form_invalid, user_for

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


def _account_out(account: SmsAccount) -> dict:
    callbacks = WebhookSettings.objects.filter(account=account).first()
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


@router.get("/sms/{serviceName}", response=responses(schemas.AccountOut))
def sms_account(request, serviceName: str):
    return _account_out(account_for(request, serviceName))


@router.put("/sms/{serviceName}", response=responses(None))
def sms_account_update(request, serviceName: str, payload: schemas.AccountUpdate):
    """Change the description and the callback URLs (the panel's settings forms decide)."""
    account = account_for(request, serviceName)
    if payload.description is not None:
        data = {
            "description": payload.description,
            "default_region": account.default_region,
            "low_credit_threshold": account.low_credit_threshold or "",
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
