"""/sms/{serviceName}/users: SMS users (OVH `sms.User`), the logins of http2sms, with a quota, an
alert threshold and allowed addresses; and their history document."""

import ipaddress
from datetime import datetime
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.shortcuts import get_object_or_404
from ninja import Query, Router

from accounts import services as accounts
from accounts.models import SmsUser
from messaging.forms import WebhookSettingsForm

from .. import schemas
from ..errors import ApiError
from ..schemas import responses
from .base import DATE_FROM, DATE_TO, account_for, done, form_invalid
from .history import history_document
from .incoming import replies
from .outgoing import sent

router = Router(tags=["users"])

_USER = "/sms/{serviceName}/users/{login}"


def sms_user_for(request, service_name: str, login: str) -> SmsUser:
    return get_object_or_404(SmsUser, account=account_for(request, service_name), login=login)


def _user_out(user: SmsUser) -> dict:
    return {
        "login": user.login,
        "password": "",
        "ipRestrictions": user.ip_restrictions,
        "quotaInformations": {"quotaLeft": float(user.quota_left),
                              "quotaStatus": user.quota_status},  # fmt: skip
        "alertThresholdInformations": {
            "alertEmail": user.alert_email,
            "alertNumber": user.alert_number,
            "alertThreshold": user.alert_threshold,
            "support": user.alert_support,
        },
        "callBack": user.callback or None,
        "stopCallBack": user.stop_callback or None,
    }


@router.get("/sms/{serviceName}/users", response=responses(list[str]))
def users_list(request, serviceName: str):
    account = account_for(request, serviceName)
    return list(SmsUser.objects.filter(account=account).values_list("login", flat=True))


@router.post("/sms/{serviceName}/users", response=responses(None))
def users_create(request, serviceName: str, payload: schemas.UserIn):
    """A login and password for http2sms (and users/{login}/jobs)."""
    try:
        accounts.sms_user_create(account=account_for(request, serviceName), login=payload.login,
                                 password=payload.password)  # fmt: skip
    except accounts.SmsUserError as exc:
        raise ApiError(409, str(exc), "ALREADY_EXISTS") from None
    return done()


@router.get(_USER, response=responses(schemas.UserOut))
def users_get(request, serviceName: str, login: str):
    return _user_out(sms_user_for(request, serviceName, login))


def _addresses(values: list[str]) -> list[str]:
    try:
        return [str(ipaddress.ip_address(v.strip())) for v in values]
    except ValueError as exc:
        raise ApiError.invalid(f"ipRestrictions: {exc}") from None


@router.put(_USER, response=responses(None))
def users_update(request, serviceName: str, login: str, payload: schemas.UserUpdate):
    """Change the password (an empty one is kept), the quota (it replaces what is left), the
    alert, the callback URLs and the addresses allowed on http2sms."""
    user = sms_user_for(request, serviceName, login)
    fields = {}
    if payload.password:
        if len(payload.password) < 8:
            raise ApiError.invalid("password: at least 8 characters")
        fields["password"] = payload.password
    if payload.ipRestrictions is not None:
        fields["ip_restrictions"] = _addresses(payload.ipRestrictions)
    if payload.quotaInformations is not None:
        fields["quota_status"] = payload.quotaInformations.quotaStatus
        fields["quota_left"] = payload.quotaInformations.quotaLeft
    alert = payload.alertThresholdInformations
    if alert is not None:
        fields.update(alert_threshold=alert.alertThreshold, alert_number=alert.alertNumber,
                      alert_support=alert.support, alert_email=alert.alertEmail)  # fmt: skip
    if payload.callBack is not None or payload.stopCallBack is not None:
        # The account's callback rules: http(s), no private address.
        form = WebhookSettingsForm(data={
            "delivery_url": user.callback if payload.callBack is None else payload.callBack,
            "stop_url": user.stop_callback if payload.stopCallBack is None
            else payload.stopCallBack,
        })  # fmt: skip
        if not form.is_valid():
            raise form_invalid(form)
        fields.update(callback=form.cleaned_data["delivery_url"],
                      stop_callback=form.cleaned_data["stop_url"])  # fmt: skip
    if fields.get("alert_email"):
        try:
            validate_email(fields["alert_email"])
        except ValidationError:
            raise ApiError.invalid("alertThresholdInformations.alertEmail: invalid") from None
    accounts.sms_user_update(user, **fields)
    return done()


@router.delete(_USER, response=responses(None))
def users_delete(request, serviceName: str, login: str):
    """The user goes; its sent messages stay in the account's history."""
    sms_user_for(request, serviceName, login).delete()
    return done()


@router.get(_USER + "/document", response=responses(str))
def users_document(
    request,
    serviceName: str,
    login: str,
    wayType: Literal["incoming", "outgoing"],
    date_from: Annotated[datetime | None, Query(alias=DATE_FROM)] = None,
    date_to: Annotated[datetime | None, Query(alias=DATE_TO)] = None,
    tag: str | None = None,
):
    """The user's sent or received history as a CSV document; answers its /me/document id."""
    user = sms_user_for(request, serviceName, login)
    return history_document(request, way=wayType, sent_qs=sent(user.account, user),
                            received_qs=replies(user.account, user), tag=tag,
                            date_from=date_from, date_to=date_to)  # fmt: skip
